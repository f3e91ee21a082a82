import type { DataSource, EntityManager } from 'typeorm';
import { insertRows, placeholders } from '@el/read-models';
import { KeyedSerializer, trimOldest } from '@el/platform';
import { MerkleLog } from '../merkle/merkle-log';
import { auditEntry, entryLeafHash, refsOf, type EventRefs, type LoggedEvent } from './audit-entry';

export interface AppendOutcome {
  /** Events added to the tree. */
  readonly appended: number;
  /** Events it already held (a redelivery), identical to the held ones. */
  readonly duplicates: number;
  /**
   * Events at or below its last position that it does not hold as received —
   * other content at that position, or no event there at all (a feed mixing
   * two logs): never stored; reported.
   */
  readonly divergent: readonly { position: number; held: string | null; received: string }[];
}

export class AuditLogCorruptError extends Error {
  override readonly name = 'AuditLogCorruptError';
}

/** The (kind, ref) pairs of an event's references, as au_refs holds them. */
export function refRows(r: EventRefs): [string, string][] {
  const rows: [string, string][] = [];
  if (r.customer) rows.push(['customer', r.customer]);
  for (const ent of r.entitlements) rows.push(['entitlement', ent]);
  if (r.actor) rows.push(['actor', r.actor]);
  if (r.correlation) rows.push(['correlation', r.correlation]);
  return rows;
}

/** When the ledger recorded the event (its metadata's recordedAt, what as-of queries read), else when the store committed it. */
export function recordedAtOf(e: Pick<LoggedEvent, 'metadata' | 'recordedAt'>): string {
  return typeof e.metadata['recordedAt'] === 'string' ? e.metadata['recordedAt'] : e.recordedAt;
}

export function effectiveAtOf(e: Pick<LoggedEvent, 'metadata'>): string | null {
  return typeof e.metadata['effectiveAt'] === 'string' ? e.metadata['effectiveAt'] : null;
}

/** The event store's own streams whose events do not name their customer: the stream that does. */
export function customerStreamOf(stream: string): string {
  const usage = /^usage-([^/]+)\//.exec(stream);
  return usage ? `entitlement-${usage[1]}` : stream;
}

/**
 * The audit log: every event of the ledger in the log's order, each a leaf of
 * an RFC 6962 tree, stored (au_leaves, with the exact bytes each leaf hash
 * covers) and held in memory as a MerkleLog. Appends are idempotent by
 * position: a redelivered event is compared with the one held and never
 * stored twice. One writer at a time (appends take turns).
 */
export class AuditLog {
  readonly tree = new MerkleLog();
  private last = 0;
  private readonly turns = new KeyedSerializer();
  private readonly customers = new Map<string, string>();
  private readonly p: (n: number) => string;
  private waiters: { position: number; resolve: (reached: boolean) => void }[] = [];

  constructor(readonly db: DataSource) {
    this.p = placeholders(db);
  }

  /** Position of the newest event in the tree (0 when empty). */
  get lastPosition(): number {
    return this.last;
  }

  get size(): number {
    return this.tree.size;
  }

  /** Rebuilds the in-memory tree from the stored leaf hashes (in pages), checking the leaves are dense. */
  async load(onPage?: (leaves: number) => void): Promise<void> {
    const PAGE = 20_000;
    let next = 0;
    for (;;) {
      const rows: { leaf_index: string | number; leaf_hash: string; position: string | number }[] = await this.db.query(
        `SELECT leaf_index, leaf_hash, position FROM au_leaves WHERE leaf_index >= ${this.p(1)} ORDER BY leaf_index LIMIT ${PAGE}`,
        [next],
      );
      for (const r of rows) {
        if (Number(r.leaf_index) !== next) throw new AuditLogCorruptError(`au_leaves has no leaf ${next} (the next row is leaf ${r.leaf_index}): the audit store was changed out of band; run \`npm run audit -- check-store\``);
        this.tree.append(Buffer.from(r.leaf_hash, 'hex'));
        this.last = Number(r.position);
        next += 1;
      }
      onPage?.(next);
      if (rows.length < PAGE) return;
    }
  }

  /**
   * Adds the events after the tree's last position, in the order given (the
   * log's), in one transaction with `state` (e.g. the feed's resume offset).
   */
  append(events: readonly LoggedEvent[], state: Readonly<Record<string, string>> = {}): Promise<AppendOutcome> {
    return this.inTurn(() => this.appendInTurn(events, state));
  }

  /** Runs `task` when no other write of this log runs (appends and tree heads take turns: one SQLite connection, and a head signs a size the store holds). */
  inTurn<T>(task: () => Promise<T>): Promise<T> {
    return this.turns.run('write', task);
  }

  private async appendInTurn(events: readonly LoggedEvent[], state: Readonly<Record<string, string>>): Promise<AppendOutcome> {
    const fresh: { e: LoggedEvent; entry: string; hash: Buffer; index: number }[] = [];
    const seen: LoggedEvent[] = [];
    let last = this.last;
    for (const e of events) {
      if (e.position <= last) {
        seen.push(e);
        continue;
      }
      const entry = auditEntry(e);
      fresh.push({ e, entry, hash: entryLeafHash(entry), index: this.tree.size + fresh.length });
      last = e.position;
    }
    const divergent = await this.compareHeld(seen);
    if (fresh.length === 0 && Object.keys(state).length === 0) return { appended: 0, duplicates: seen.length - divergent.length, divergent };

    await this.db.transaction(async (tx) => {
      const p = this.p;
      await insertRows(
        tx,
        p,
        'au_leaves (leaf_index, position, event_id, stream, revision, type, entry, leaf_hash, recorded_at, effective_at)',
        fresh.map(({ e, entry, hash, index }) => [index, e.position, e.id, e.stream, e.revision, e.type, entry, hash.toString('hex'), recordedAtOf(e), effectiveAtOf(e)]),
        { rowsPerStatement: 100 },
      );
      const refs: [string, string, number][] = [];
      const streams: [string, string][] = [];
      // The customers of the batch's streams, in one query for those not in memory.
      await this.loadCustomers(tx, fresh.map(({ e }) => customerStreamOf(e.stream)));
      for (const { e, index } of fresh) {
        const key = customerStreamOf(e.stream);
        const known = this.customers.get(key) ?? null;
        const r = refsOf(e, known);
        if (r.customer && !known) {
          this.remember(key, r.customer);
          streams.push([key, r.customer]);
        }
        for (const [kind, ref] of refRows(r)) refs.push([kind, ref, index]);
      }
      await insertRows(tx, p, 'au_refs (kind, ref, leaf_index)', refs, { suffix: 'ON CONFLICT DO NOTHING' });
      await insertRows(tx, p, 'au_streams (stream, customer_id)', streams, { suffix: 'ON CONFLICT DO NOTHING' });
      for (const [name, value] of Object.entries(state)) {
        await tx.query(`INSERT INTO au_state (name, value) VALUES (${p(1)}, ${p(2)}) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, [name, value]);
      }
    });
    // Only once committed: the tree never holds a leaf the store could lose.
    for (const f of fresh) this.tree.append(f.hash);
    this.last = last;
    if (this.waiters.length > 0) {
      const due = this.waiters.filter((w) => w.position <= last);
      this.waiters = this.waiters.filter((w) => w.position > last);
      for (const w of due) w.resolve(true);
    }
    return { appended: fresh.length, duplicates: seen.length - divergent.length, divergent };
  }

  /** Reads the customers of these streams that are not in memory (one query per 500). */
  private async loadCustomers(tx: EntityManager, keys: readonly string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((k) => !this.customers.has(k));
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const rows = (await tx.query(`SELECT stream, customer_id FROM au_streams WHERE stream IN (${chunk.map((_, n) => this.p(n + 1)).join(', ')})`, chunk)) as { stream: string; customer_id: string }[];
      for (const r of rows) this.remember(r.stream, r.customer_id);
    }
  }

  /** Streams' customers kept in memory, the oldest forgotten past 500,000 (read again from au_streams when needed). */
  private remember(stream: string, customerId: string): void {
    this.customers.set(stream, customerId);
    trimOldest(this.customers, 500_000);
  }

  /** Redelivered events must be the ones held: any other content is a discrepancy, reported, never stored. */
  private async compareHeld(events: readonly LoggedEvent[]): Promise<{ position: number; held: string | null; received: string }[]> {
    const out: { position: number; held: string | null; received: string }[] = [];
    for (const e of events) {
      const [row] = (await this.db.query(`SELECT leaf_hash FROM au_leaves WHERE position = ${this.p(1)}`, [e.position])) as { leaf_hash: string }[];
      const received = entryLeafHash(auditEntry(e)).toString('hex');
      if (!row || row.leaf_hash !== received) out.push({ position: e.position, held: row?.leaf_hash ?? null, received });
    }
    return out;
  }

  /** Resolves true once the log holds the event at `position`, false after `timeoutMs`. */
  reached(position: number, timeoutMs: number): Promise<boolean> {
    if (this.last >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { position, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  async state(name: string): Promise<string | null> {
    const [row] = (await this.db.query(`SELECT value FROM au_state WHERE name = ${this.p(1)}`, [name])) as { value: string }[];
    return row?.value ?? null;
  }

  /** The leaf of the event at `position`, or null. */
  async leafAt(position: number): Promise<{ leafIndex: number; entry: string; leafHash: string } | null> {
    const [row] = (await this.db.query(`SELECT leaf_index, entry, leaf_hash FROM au_leaves WHERE position = ${this.p(1)}`, [position])) as { leaf_index: string | number; entry: string; leaf_hash: string }[];
    return row ? { leafIndex: Number(row.leaf_index), entry: row.entry, leafHash: row.leaf_hash } : null;
  }

  /** Tree size after the events up to and including `position` (0 when none is that old). */
  async sizeAt(position: number): Promise<number> {
    const [row] = (await this.db.query(`SELECT leaf_index FROM au_leaves WHERE position <= ${this.p(1)} ORDER BY position DESC LIMIT 1`, [position])) as { leaf_index: string | number }[];
    return row ? Number(row.leaf_index) + 1 : 0;
  }
}
