import type { SignedTreeHeadV1 } from '@el/contracts';
import type { EventStore } from '@el/event-store';
import { placeholders } from '@el/read-models';
import { AuditError } from '../audit.errors';
import type { AuditLog } from '../log/audit-log';
import { auditEntry, entryLeafHash } from '../log/audit-entry';
import type { TreeHeads } from '../tree-heads/tree-heads';

/** The export format's name, in its header line. */
export const AUDIT_EXPORT_FORMAT = 'el-audit-export/1';

export interface ExportRequest {
  readonly fromPosition?: number;
  readonly toPosition?: number;
  /** Only the events about this customer, each with its inclusion proof. */
  readonly customerId?: string;
}

export interface ExportHeader {
  readonly kind: 'header';
  readonly format: typeof AUDIT_EXPORT_FORMAT;
  readonly generatedAt: string;
  readonly fromPosition: number | null;
  readonly toPosition: number | null;
  readonly customerId: string | null;
  /**
   * True when the export holds every event of the tree from its first leaf up
   * to `treeHead.treeSize`: a verifier recomputes each tree head's root from
   * the events. Otherwise each event carries its inclusion proof in `treeHead`.
   */
  readonly complete: boolean;
  readonly events: number;
  /** How many treeHead lines follow (a complete export holds every head signed up to its own). */
  readonly treeHeads: number;
  /** The signed tree head everything in the export is proven against. */
  readonly treeHead: SignedTreeHeadV1;
}

interface LeafRow {
  leaf_index: string | number;
  position: string | number;
  entry: string;
  leaf_hash: string;
}

const PAGE = 2_000;

/**
 * The lines of an export (JSON lines, each ending in "\n"): a header, the
 * events in position order, the signed tree heads a complete export passes
 * (each right after the event that completes its size), and an end line with
 * the count. An event line is
 *   {"kind":"event","leafIndex":…,"leafHash":"…"[,"proof":[…]],"event":<entry>}
 * with the entry's exact bytes (the canonical JSON the leaf hash covers) as
 * its last member, so a verifier can hash them as they are.
 *
 * When the ledger's event store is at hand, each exported event is compared
 * with the copy it holds: an event whose copy in either store no longer
 * hashes to the leaf recorded when the audit service first logged it is
 * exported as found there, so the export never hides an alteration — its
 * verification fails at that position.
 */
export async function* auditExportLines(log: AuditLog, heads: TreeHeads, events: EventStore | null, request: ExportRequest, now: Date): AsyncGenerator<string> {
  if (log.size === 0) throw new AuditError('AUDIT.EMPTY_LOG', 'the audit log holds no event yet');
  const p = placeholders(log.db);
  const from = request.fromPosition ?? 0;
  const to = request.toPosition ?? Number.MAX_SAFE_INTEGER;
  const customer = request.customerId ?? null;
  const [first] = (await log.db.query(`SELECT MIN(position) AS position FROM au_leaves`)) as { position: string | number }[];
  const complete = customer === null && from <= Number(first!.position);

  // The head it is proven against: a complete export up to a position ends at a head of exactly that size (signed now if
  // none was); otherwise the newest, covering everything.
  let anchor: SignedTreeHeadV1;
  if (complete && request.toPosition !== undefined) {
    const size = await log.sizeAt(to);
    if (size === 0) throw new AuditError('AUDIT.EMPTY_LOG', `no event at or before position ${to}`, { toPosition: to });
    anchor = await heads.ofSizeOrSigned(size);
  } else {
    anchor = await heads.covering(log.size);
  }
  const size = anchor.treeSize;

  // What is exported: leaves [0, size) of a complete export; the customer's or the range's events within the anchor's tree otherwise.
  const filter = (after: number) => {
    const params: unknown[] = [];
    const $ = (v: unknown) => (params.push(v), p(params.length));
    const conditions = [`l.leaf_index < ${$(size)}`, `l.leaf_index > ${$(after)}`];
    if (!complete) conditions.push(`l.position >= ${$(from)}`, `l.position <= ${$(to)}`);
    if (customer !== null) conditions.push(`l.leaf_index IN (SELECT r.leaf_index FROM au_refs r WHERE r.kind = 'customer' AND r.ref = ${$(customer)})`);
    return { where: conditions.join(' AND '), params };
  };
  const all = filter(-1);
  const [counted] = (await log.db.query(`SELECT COUNT(*) AS n FROM au_leaves l WHERE ${all.where}`, all.params)) as { n: string | number }[];
  const count = Number(counted!.n);

  const signed = complete ? await heads.list(0, 1_000_000).then((hs) => hs.filter((h) => h.treeSize <= size)) : [];
  const header: ExportHeader = { kind: 'header', format: AUDIT_EXPORT_FORMAT, generatedAt: now.toISOString(), fromPosition: request.fromPosition ?? null, toPosition: request.toPosition ?? null, customerId: customer, complete, events: count, treeHeads: signed.length, treeHead: anchor };
  yield `${JSON.stringify(header)}\n`;

  let nextHead = 0;
  const ledger = events ? new LedgerCopies(events) : null;
  let after = -1;
  let exported = 0;
  let last = -1;
  for (;;) {
    const page = filter(after);
    const rows = (await log.db.query(`SELECT l.leaf_index, l.position, l.entry, l.leaf_hash FROM au_leaves l WHERE ${page.where} ORDER BY l.leaf_index LIMIT ${PAGE}`, page.params)) as LeafRow[];
    for (const r of rows) {
      const index = Number(r.leaf_index);
      const position = Number(r.position);
      let entry = r.entry;
      if (ledger) {
        const held = await ledger.entryAt(position);
        // The ledger's copy no longer matches what was logged: export it as found there.
        if (held !== null && held !== entry && entryLeafHash(held).toString('hex') !== r.leaf_hash) entry = held;
      }
      const proof = complete ? '' : `,"proof":${JSON.stringify(log.tree.inclusionProof(index, size).map((h) => h.toString('hex')))}`;
      yield `{"kind":"event","leafIndex":${index},"leafHash":"${r.leaf_hash}"${proof},"event":${entry}}\n`;
      exported += 1;
      last = index;
      while (nextHead < signed.length && signed[nextHead]!.treeSize <= index + 1) {
        if (signed[nextHead]!.treeSize === index + 1) yield `${JSON.stringify({ kind: 'treeHead', ...signed[nextHead]! })}\n`;
        nextHead += 1;
      }
    }
    if (rows.length < PAGE) break;
    after = Number(rows[rows.length - 1]!.leaf_index);
  }
  yield `${JSON.stringify({ kind: 'end', events: exported, treeHeads: signed.length, lastLeafIndex: last })}\n`;
}

/** The ledger's stored copy of each exported event, read ahead in pages (positions ascend). */
class LedgerCopies {
  private page: Map<number, string> = new Map();
  private pageEnd = -1;

  constructor(private readonly store: EventStore) {}

  async entryAt(position: number): Promise<string | null> {
    if (position > this.pageEnd) {
      const events = await this.store.readAll({ after: position - 1, maxCount: PAGE });
      this.page = new Map(events.map((e) => [e.position, auditEntry(e)]));
      this.pageEnd = events.length === 0 ? position : events[events.length - 1]!.position;
    }
    return this.page.get(position) ?? null;
  }
}
