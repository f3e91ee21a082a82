import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { join } from 'node:path';
import { SqliteSnapshotStore, type StreamSnapshot } from '@el/event-store';
import { HealthRegistry, Metrics, trimOldest } from '@el/platform';
import type { Counter } from 'prom-client';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';

/** How many streams' newest states a process keeps in memory. */
const RECENT_STREAMS = 256;

/** A snapshot of a state holding N items is written at most every N / ITEMS_PER_EVENT events. */
const ITEMS_PER_EVENT = 10;

/** The snapshot file: SNAPSHOT_PATH, or `snapshots.db` in DATA_DIR. */
export function snapshotPath(config: Pick<LedgerConfig, 'SNAPSHOT_PATH'> & { readonly DATA_DIR?: string }): string {
  return config.SNAPSHOT_PATH || join(config.DATA_DIR ?? './data', 'snapshots.db');
}

/**
 * Snapshots of the ledger's long streams (entitlements): a stream is loaded as
 * its newest snapshot and the events after it. The newest state of the 256
 * streams used last is kept in memory (states are immutable; another
 * process's appends are still read, as the events after it), and written to
 * the snapshot file once it is SNAPSHOT_EVERY events or more past the file's
 * snapshot of the stream (after the command, off its path), for restarts and
 * other processes. A cache (see SqliteSnapshotStore): a write that fails is
 * logged and skipped, never a failed command.
 */
@Injectable()
export class StreamSnapshots implements OnModuleDestroy {
  private readonly logger = new Logger('snapshots');
  private store: SqliteSnapshotStore | null;
  /** Streams whose snapshot is about to be written. */
  private readonly writing = new Set<string>();
  readonly every: number;
  private readonly counted: Counter<'result'>;
  /**
   * The newest state of the streams used last (by this process), kept as it is: a hot stream is
   * loaded as this state and the events after it, without reading or parsing its snapshot.
   */
  private readonly recent = new Map<string, { state: StreamSnapshot; fileRevision: number }>();

  constructor(@Inject(LEDGER_CONFIG) config: LedgerConfig & { readonly DATA_DIR?: string }, metrics: Metrics, health: HealthRegistry) {
    this.every = config.SNAPSHOT_EVERY;
    this.store = this.every > 0 ? SqliteSnapshotStore.open(snapshotPath(config)) : null;
    this.counted = metrics.counter('stream_snapshot_loads_total', "Stream loads, by where their state came from (memory: this process's newest; hit: the snapshot file; miss: none) and snapshots written (written)", ['result']);
    if (this.store) health.register('snapshots', () => ({ status: 'up', path: this.store!.path, every: this.every, streams: this.store!.count() }));
  }

  /** The stream's snapshot by fold `version` (the newest state this process saw, or the file's), or null (none, another version, snapshots off). */
  load<S>(stream: string, version: string): StreamSnapshot<S> | null {
    if (!this.store) return null;
    const kept = this.recent.get(stream);
    if (kept && kept.state.version === version) {
      this.counted.inc({ result: 'memory' });
      return kept.state as StreamSnapshot<S>;
    }
    try {
      const found = this.store.load<S>(stream, version);
      this.counted.inc({ result: found ? 'hit' : 'miss' });
      if (found) this.remember(found, found.revision);
      return found;
    } catch (err) {
      this.logger.warn({ err, stream }, 'a stream snapshot could not be read; the stream is folded from its start');
      return null;
    }
  }

  /**
   * After a load: its state is kept in memory, and written to the file when the file's snapshot
   * of the stream (if any) is SNAPSHOT_EVERY events or more behind it, and at least a tenth of
   * `size` events: how many items (users, devices) the state holds. Writing a snapshot costs its
   * size, so a state of 100,000 users is written every 10,000 events, not every 100: the cost per
   * event stays the same however large the state grows, and a load from the file still folds at
   * most a tenth as many events as the snapshot holds items.
   */
  loaded(snapshot: StreamSnapshot, size = 0): void {
    if (!this.store) return;
    const inFile = this.recent.get(snapshot.stream)?.fileRevision ?? -1;
    this.remember(snapshot, inFile);
    const every = Math.max(this.every, Math.ceil(size / ITEMS_PER_EVENT));
    if (snapshot.revision - inFile < every || this.writing.has(snapshot.stream)) return;
    // Written after the command that loaded it has gone on (the state is immutable): its cost is not on the request.
    this.writing.add(snapshot.stream);
    setImmediate(() => {
      this.writing.delete(snapshot.stream);
      if (!this.store) return;
      try {
        if (this.store.save(snapshot)) {
          this.counted.inc({ result: 'written' });
          const kept = this.recent.get(snapshot.stream);
          if (kept) kept.fileRevision = Math.max(kept.fileRevision, snapshot.revision);
        }
      } catch (err) {
        this.logger.warn({ err, stream: snapshot.stream }, 'a stream snapshot could not be written; the next load tries again');
      }
    });
  }

  /** Most recently used last: the oldest goes first when there are too many. */
  private remember(state: StreamSnapshot, fileRevision: number): void {
    this.recent.delete(state.stream);
    this.recent.set(state.stream, { state, fileRevision });
    trimOldest(this.recent, RECENT_STREAMS);
  }

  onModuleDestroy(): void {
    const store = this.store;
    this.store = null;
    store?.close();
  }
}
