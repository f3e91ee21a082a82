import type { DataSource } from 'typeorm';
import type { EventStore, RecordedEvent } from '@el/event-store';
import { nextTurn } from '@el/platform';
import { placeholders } from '@el/read-models';
import { MerkleLog } from '../merkle/merkle-log';
import { auditEntry, entryLeafHash, refsOf, type LoggedEvent } from '../log/audit-entry';
import { customerStreamOf, effectiveAtOf, recordedAtOf, refRows } from '../log/audit-log';
import { TreeHeadVerifier, type PublishedJwk } from '../tree-heads/tree-head';

export interface StoreFinding {
  /** Which store holds the discrepancy. */
  readonly store: 'event store' | 'audit store';
  readonly position: number | null;
  readonly problem: 'altered' | 'removed' | 'inserted' | 'tree head';
  readonly detail: string;
}

export interface StoreCheckReport {
  readonly ok: boolean;
  /** Events of the audit log compared. */
  readonly events: number;
  readonly treeHeads: number;
  /** Events in the event store after the audit log's last one: not logged yet (not a discrepancy). */
  readonly notYetLogged: number;
  readonly findings: readonly StoreFinding[];
}

export interface StoreCheckOptions {
  /** Called after each page of leaves: leaves compared so far, leaves in the audit store when the check began. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Findings kept at most (default 100): the report says what is wrong, not everything that is. */
  readonly maxFindings?: number;
  /** Leaves (and events) read per query (default 5,000). */
  readonly pageSize?: number;
  /** Stops the check at the next page (it rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/**
 * Between pages the check hands the event loop back (setImmediate): on SQLite
 * every read is synchronous, so without it a check would hold the loop for
 * the whole store; with it, for one page at most.
 */

interface LeafRow {
  leaf_index: string | number;
  position: string | number;
  event_id: string;
  stream: string;
  revision: string | number;
  type: string;
  entry: string;
  leaf_hash: string;
  recorded_at: string;
  effective_at: string | null;
}

/**
 * Whether the columns and history references the audit store keeps beside an
 * entry say what the entry says (a history query answers from them, so an
 * index edited out of band would hide or misplace an event).
 */
function derivedProblem(r: LeafRow, ledger: RecordedEvent | null, customers: Map<string, string>, storedRefs: ReadonlySet<string>): string | null {
  let e: { position: unknown; stream: unknown; revision: unknown; type: unknown; data: unknown; metadata: Record<string, unknown> };
  try {
    e = JSON.parse(r.entry) as typeof e;
  } catch {
    return 'its stored event is not JSON';
  }
  if (e.position !== Number(r.position) || e.stream !== r.stream || e.revision !== Number(r.revision) || e.type !== r.type) return 'its position, stream, revision or type column differs from its event';
  const event: LoggedEvent = { id: r.event_id, position: Number(r.position), stream: r.stream, revision: Number(r.revision), type: r.type, data: e.data, metadata: e.metadata ?? {}, recordedAt: ledger?.recordedAt ?? r.recorded_at };
  if (r.recorded_at !== recordedAtOf(event) || (r.effective_at ?? null) !== effectiveAtOf(event)) return 'its recorded or effective time column differs from its event';
  const key = customerStreamOf(event.stream);
  const known = customers.get(key) ?? null;
  const refs = refsOf(event, known);
  if (refs.customer && !known) customers.set(key, refs.customer);
  const expected = new Set(refRows(refs).map(([kind, ref]) => `${kind}\u0000${ref}`));
  const lost = [...expected].filter((x) => !storedRefs.has(x));
  const added = [...storedRefs].filter((x) => !expected.has(x));
  if (lost.length > 0 || added.length > 0) return `its history references differ (${[...lost.map((x) => `missing ${x.replace('\u0000', ' ')}`), ...added.map((x) => `unexpected ${x.replace('\u0000', ' ')}`)].join(', ')})`;
  return null;
}

/**
 * Compares the live event store with the audit store, event by event in
 * position order: an event whose stored bytes no longer give the leaf the
 * audit log recorded (altered), one the audit log holds but the event store
 * lost (removed), one in the event store the audit log never saw although it
 * lies within the logged range (inserted out of band), and in the audit store
 * itself an entry that no longer hashes to its own leaf, a hole in the leaf
 * indexes, or a signed tree head whose root or signature does not verify.
 */
export async function checkStore(store: EventStore, db: DataSource, jwks: { readonly keys?: readonly PublishedJwk[] }, options: StoreCheckOptions = {}): Promise<StoreCheckReport> {
  const { onProgress, maxFindings = 100, pageSize = 5_000, signal } = options;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`checkStore: pageSize must be an integer >= 1 (got ${pageSize})`);
  const checkpoint = async () => {
    await nextTurn();
    signal?.throwIfAborted();
  };
  signal?.throwIfAborted();
  const p = placeholders(db);
  const findings: StoreFinding[] = [];
  const find = (f: StoreFinding) => {
    if (findings.length < maxFindings) findings.push(f);
  };
  // The heads stored when the check begins: each covers leaves already stored (a head is signed after its leaves
  // commit), while one signed during the check may cover leaves appended after the check read its last page.
  const heads = (await db.query(`SELECT tree_size, root_hash, last_position, timestamp, kid, signature FROM au_tree_heads ORDER BY tree_size`)) as { tree_size: string | number; root_hash: string; last_position: string | number; timestamp: string; kid: string; signature: string }[];
  const [{ n }] = (await db.query(`SELECT COUNT(*) AS n FROM au_leaves`)) as [{ n: string | number }];
  const total = Number(n);
  const tree = new MerkleLog();
  let after = -1;
  let expectedIndex = 0;
  let ledger: RecordedEvent[] = [];
  let ledgerAt = 0;
  let ledgerAfter = 0;
  let ledgerDone = false;
  const nextLedger = async (): Promise<RecordedEvent | null> => {
    if (ledgerAt >= ledger.length) {
      if (ledgerDone) return null;
      await checkpoint();
      ledger = await store.readAll({ after: ledgerAfter, maxCount: pageSize });
      ledgerAt = 0;
      if (ledger.length === 0) {
        ledgerDone = true;
        return null;
      }
      ledgerAfter = ledger[ledger.length - 1]!.position;
    }
    return ledger[ledgerAt]!;
  };
  let lastLogged = 0;
  // The customer of each stream, learned in log order exactly as the ingestion learns it: the expected references.
  const customers = new Map<string, string>();
  for (;;) {
    await checkpoint();
    const rows = (await db.query(`SELECT leaf_index, position, event_id, stream, revision, type, entry, leaf_hash, recorded_at, effective_at FROM au_leaves WHERE leaf_index > ${p(1)} ORDER BY leaf_index LIMIT ${pageSize}`, [after])) as LeafRow[];
    const refs = new Map<number, Set<string>>();
    if (rows.length > 0) {
      const stored = (await db.query(`SELECT kind, ref, leaf_index FROM au_refs WHERE leaf_index >= ${p(1)} AND leaf_index <= ${p(2)}`, [Number(rows[0]!.leaf_index), Number(rows[rows.length - 1]!.leaf_index)])) as { kind: string; ref: string; leaf_index: string | number }[];
      for (const r of stored) {
        const set = refs.get(Number(r.leaf_index)) ?? new Set<string>();
        set.add(`${r.kind}\u0000${r.ref}`);
        refs.set(Number(r.leaf_index), set);
      }
    }
    for (const r of rows) {
      const index = Number(r.leaf_index);
      const position = Number(r.position);
      // Leaves missing here: the event store's events before this one were removed from the audit store, not inserted in the ledger.
      let missing = index > expectedIndex ? index - expectedIndex : 0;
      if (index < expectedIndex) find({ store: 'audit store', position, problem: 'inserted', detail: `leaf ${index} again after leaf ${expectedIndex - 1}` });
      expectedIndex = index + 1;
      if (entryLeafHash(r.entry).toString('hex') !== r.leaf_hash) find({ store: 'audit store', position, problem: 'altered', detail: `position ${position}: its stored event no longer hashes to its leaf` });
      tree.append(Buffer.from(r.leaf_hash, 'hex'));
      let held = await nextLedger();
      while (held && held.position < position) {
        if (missing > 0) {
          find({ store: 'audit store', position: held.position, problem: 'removed', detail: `position ${held.position} (${held.stream}@${held.revision}) is in the event store but its leaf is gone from the audit store` });
          missing -= 1;
        } else {
          find({ store: 'event store', position: held.position, problem: 'inserted', detail: `position ${held.position} (${held.stream}@${held.revision}) is not in the audit log` });
        }
        ledgerAt += 1;
        held = await nextLedger();
      }
      if (missing > 0) find({ store: 'audit store', position, problem: 'removed', detail: `${missing} leaf(s) before leaf ${index} are gone from the audit store` });
      const ledgerCopy = held && held.position === position ? held : null;
      if (!ledgerCopy) {
        find({ store: 'event store', position, problem: 'removed', detail: `position ${position} is in the audit log but no longer in the event store` });
      } else {
        if (entryLeafHash(auditEntry(ledgerCopy)).toString('hex') !== r.leaf_hash) find({ store: 'event store', position, problem: 'altered', detail: `position ${position} (${ledgerCopy.stream}@${ledgerCopy.revision}) no longer gives the leaf the audit log recorded` });
        ledgerAt += 1;
      }
      // What the audit store derived from the entry (columns, history references) must be what the entry says.
      const problem = derivedProblem(r, ledgerCopy, customers, refs.get(index) ?? new Set());
      if (problem) find({ store: 'audit store', position, problem: 'altered', detail: `position ${position}: ${problem}` });
      lastLogged = position;
    }
    onProgress?.(expectedIndex, total);
    if (rows.length < pageSize) break;
    after = Number(rows[rows.length - 1]!.leaf_index);
  }
  let notYetLogged = 0;
  for (let held = await nextLedger(); held; held = await nextLedger()) {
    if (held.position > lastLogged) notYetLogged += 1;
    ledgerAt += 1;
  }

  const verifier = new TreeHeadVerifier(jwks);
  for (const [i, h] of heads.entries()) {
    if (i > 0 && i % 500 === 0) await checkpoint();
    const size = Number(h.tree_size);
    const head = { version: 'el-sth/1', treeSize: size, rootHash: h.root_hash, lastPosition: Number(h.last_position), timestamp: h.timestamp, kid: h.kid, signature: h.signature } as const;
    const signed = verifier.verify(head);
    if (!signed.ok) find({ store: 'audit store', position: head.lastPosition, problem: 'tree head', detail: `the tree head of size ${size}: ${signed.reason}` });
    else if (size > tree.size || tree.root(size).toString('hex') !== h.root_hash) find({ store: 'audit store', position: head.lastPosition, problem: 'tree head', detail: `the stored leaves do not give the signed root of size ${size}` });
  }
  return { ok: findings.length === 0, events: expectedIndex, treeHeads: heads.length, notYetLogged, findings };
}
