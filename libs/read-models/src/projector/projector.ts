import type { DataSource, QueryRunner } from 'typeorm';
import { runCheckpointed, type CheckpointedSubscription, type EventStore, type RecordedEvent } from '@el/event-store';
import { applyBatch, ProjectionCodecs, type BatchStats } from './apply-batch';
import { dialectOf, inWriteTransaction, quote, SqlWriter, type Dialect } from './sql';
import { LIVE_TABLES, type TableSet } from './tables';

export interface ProjectorOptions {
  /** Stable, configured id: the checkpoint belongs to it. */
  readonly subscriptionId: string;
  /** Most events per transaction. */
  readonly batchSize: number;
  readonly tables?: TableSet;
  readonly onBatch?: (stats: BatchStats & { position: number; durationMs: number; lastRecordedAt: string }) => void;
  readonly onError?: (error: unknown, attempt: number) => void;
  /** What stamps the checkpoint row (the injected Clock in the services). */
  readonly clock?: { now(): Date };
  /** Runs inside the batch transaction after the rows are written, before the checkpoint and commit (fault injection for tests). */
  readonly beforeCommit?: (position: number) => Promise<void>;
}

const CHECKPOINTS = 'rm_checkpoints';

/** Reads a checkpoint; inside a write transaction on PostgreSQL it also locks the row. */
export async function readCheckpoint(qr: QueryRunner, dialect: Dialect, subscriptionId: string, lock = false): Promise<number> {
  const sql = `SELECT position FROM ${quote(CHECKPOINTS)} WHERE subscription_id = ${dialect === 'postgres' ? '$1' : '?'}${lock && dialect === 'postgres' ? ' FOR UPDATE' : ''}`;
  const rows = (await qr.query(sql, [subscriptionId])) as { position: string | number }[];
  return rows.length ? Number(rows[0]!.position) : 0;
}

export async function writeCheckpoint(qr: QueryRunner, dialect: Dialect, subscriptionId: string, position: number, at: Date): Promise<void> {
  const [a, b, c] = dialect === 'postgres' ? ['$1', '$2', '$3'] : ['?', '?', '?'];
  await qr.query(
    `INSERT INTO ${quote(CHECKPOINTS)} (subscription_id, position, updated_at) VALUES (${a}, ${b}, ${c}) ON CONFLICT (subscription_id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    [subscriptionId, position, at.toISOString()],
  );
}

/**
 * Keeps the read models up to date: a checkpointed subscription to the event
 * store's global log. Each batch is one transaction — the checkpoint row is
 * locked, events at or below it are dropped (another writer, such as a rebuild
 * swap, may have moved it), rows are written, the checkpoint is moved. A crash
 * at any point leaves rows and checkpoint consistent; restarting continues
 * from the checkpoint.
 */
export class ReadModelProjector {
  private readonly codecs: ProjectionCodecs;
  private readonly dialect: Dialect;
  private readonly tables: TableSet;
  private subscription: CheckpointedSubscription | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly store: EventStore,
    private readonly options: ProjectorOptions,
  ) {
    this.codecs = new ProjectionCodecs(ds);
    this.dialect = dialectOf(ds);
    this.tables = options.tables ?? LIVE_TABLES;
  }

  async position(): Promise<number> {
    const qr = this.ds.createQueryRunner();
    try {
      return await readCheckpoint(qr, this.dialect, this.options.subscriptionId);
    } finally {
      await qr.release();
    }
  }

  start(): void {
    if (this.subscription) return;
    this.subscription = runCheckpointed(this.store, {
      subscriptionId: this.options.subscriptionId,
      checkpoints: { load: () => this.position(), save: async () => undefined },
      checkpointing: 'by-handler',
      batchSize: this.options.batchSize,
      retry: { initialMs: 100, maxMs: 1_000 }, // a read database that comes back is written again within a second
      handle: (events) => this.apply(events).then(() => undefined),
      ...(this.options.onError ? { onError: (e: unknown, attempt: number) => this.options.onError!(e, attempt) } : {}),
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }

  /** Applies events in one transaction with the checkpoint; returns what changed. */
  async apply(events: readonly RecordedEvent[]): Promise<BatchStats & { position: number }> {
    const started = performance.now();
    const result = await inWriteTransaction(this.ds, async (qr, dialect) => {
      const checkpoint = await readCheckpoint(qr, dialect, this.options.subscriptionId, true);
      const fresh = events.filter((e) => e.position > checkpoint);
      if (fresh.length === 0) return { events: events.length, applied: 0, rowsWritten: 0, position: checkpoint };
      const stats = await applyBatch(new SqlWriter(qr, dialect), this.codecs, this.tables, fresh);
      const position = fresh[fresh.length - 1]!.position;
      await this.options.beforeCommit?.(position);
      await writeCheckpoint(qr, dialect, this.options.subscriptionId, position, this.options.clock?.now() ?? new Date());
      return { ...stats, position };
    });
    const last = events[events.length - 1];
    this.options.onBatch?.({ ...result, durationMs: performance.now() - started, lastRecordedAt: last?.recordedAt ?? '' });
    return result;
  }
}
