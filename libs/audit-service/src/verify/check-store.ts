import type { DataSource } from 'typeorm';
import type { EventStore, RecordedEvent } from '@el/event-store';
import { placeholders } from '@el/read-models';
import { MerkleLog } from '../merkle/merkle-log';
import { auditEntry, entryLeafHash } from '../log/audit-entry';
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

const PAGE = 5_000;

/**
 * Compares the live event store with the audit store, event by event in
 * position order: an event whose stored bytes no longer give the leaf the
 * audit log recorded (altered), one the audit log holds but the event store
 * lost (removed), one in the event store the audit log never saw although it
 * lies within the logged range (inserted out of band), and in the audit store
 * itself an entry that no longer hashes to its own leaf, a hole in the leaf
 * indexes, or a signed tree head whose root or signature does not verify.
 */
export async function checkStore(store: EventStore, db: DataSource, jwks: { readonly keys?: readonly PublishedJwk[] }, onProgress?: (done: number, total: number) => void, maxFindings = 100): Promise<StoreCheckReport> {
  const p = placeholders(db);
  const findings: StoreFinding[] = [];
  const find = (f: StoreFinding) => {
    if (findings.length < maxFindings) findings.push(f);
  };
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
      ledger = await store.readAll({ after: ledgerAfter, maxCount: PAGE });
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
  for (;;) {
    const rows = (await db.query(`SELECT leaf_index, position, entry, leaf_hash FROM au_leaves WHERE leaf_index > ${p(1)} ORDER BY leaf_index LIMIT ${PAGE}`, [after])) as { leaf_index: string | number; position: string | number; entry: string; leaf_hash: string }[];
    for (const r of rows) {
      const index = Number(r.leaf_index);
      const position = Number(r.position);
      if (index !== expectedIndex) find({ store: 'audit store', position, problem: index > expectedIndex ? 'removed' : 'inserted', detail: `leaf ${index} where leaf ${expectedIndex} belongs` });
      expectedIndex = index + 1;
      if (entryLeafHash(r.entry).toString('hex') !== r.leaf_hash) find({ store: 'audit store', position, problem: 'altered', detail: `position ${position}: its stored event no longer hashes to its leaf` });
      tree.append(Buffer.from(r.leaf_hash, 'hex'));
      // The event store's events before this position were never logged: inserted out of band.
      let held = await nextLedger();
      while (held && held.position < position) {
        find({ store: 'event store', position: held.position, problem: 'inserted', detail: `position ${held.position} (${held.stream}@${held.revision}) is not in the audit log` });
        ledgerAt += 1;
        held = await nextLedger();
      }
      if (!held || held.position !== position) {
        find({ store: 'event store', position, problem: 'removed', detail: `position ${position} is in the audit log but no longer in the event store` });
      } else {
        if (entryLeafHash(auditEntry(held)).toString('hex') !== r.leaf_hash) find({ store: 'event store', position, problem: 'altered', detail: `position ${position} (${held.stream}@${held.revision}) no longer gives the leaf the audit log recorded` });
        ledgerAt += 1;
      }
      lastLogged = position;
    }
    onProgress?.(expectedIndex, total);
    if (rows.length < PAGE) break;
    after = Number(rows[rows.length - 1]!.leaf_index);
  }
  let notYetLogged = 0;
  for (let held = await nextLedger(); held; held = await nextLedger()) {
    if (held.position > lastLogged) notYetLogged += 1;
    ledgerAt += 1;
  }

  const verifier = new TreeHeadVerifier(jwks);
  const heads = (await db.query(`SELECT tree_size, root_hash, last_position, timestamp, kid, signature FROM au_tree_heads ORDER BY tree_size`)) as { tree_size: string | number; root_hash: string; last_position: string | number; timestamp: string; kid: string; signature: string }[];
  for (const h of heads) {
    const size = Number(h.tree_size);
    const head = { version: 'el-sth/1', treeSize: size, rootHash: h.root_hash, lastPosition: Number(h.last_position), timestamp: h.timestamp, kid: h.kid, signature: h.signature } as const;
    const signed = verifier.verify(head);
    if (!signed.ok) find({ store: 'audit store', position: head.lastPosition, problem: 'tree head', detail: `the tree head of size ${size}: ${signed.reason}` });
    else if (size > tree.size || tree.root(size).toString('hex') !== h.root_hash) find({ store: 'audit store', position: head.lastPosition, problem: 'tree head', detail: `the stored leaves do not give the signed root of size ${size}` });
  }
  return { ok: findings.length === 0, events: expectedIndex, treeHeads: heads.length, notYetLogged, findings };
}
