import { Logger } from '@nestjs/common';
import { SIGNED_TREE_HEAD_VERSION, TOPICS, type SignedTreeHeadV1 } from '@el/contracts';
import type { IntegrationEvents } from '@el/messaging';
import { type Clock, type Keystore } from '@el/platform';
import { placeholders } from '@el/read-models';
import type { AuditLog } from '../log/audit-log';
import { treeHeadMessage } from './tree-head';

interface TreeHeadRowRaw {
  tree_size: string | number;
  root_hash: string;
  last_position: string | number;
  timestamp: string;
  kid: string;
  signature: string;
}

const toHead = (r: TreeHeadRowRaw): SignedTreeHeadV1 => ({
  version: SIGNED_TREE_HEAD_VERSION,
  treeSize: Number(r.tree_size),
  rootHash: r.root_hash,
  lastPosition: Number(r.last_position),
  timestamp: r.timestamp,
  kid: r.kid,
  signature: r.signature,
});

/**
 * Signed tree heads: the audit service's signed statements that the first
 * `treeSize` events have the Merkle root `rootHash`. One is signed once the
 * log grew by AUDIT_TREE_HEAD_EVERY_EVENTS since the last, at least every
 * AUDIT_TREE_HEAD_INTERVAL_SECONDS while it grows, and on demand (an export
 * needs one that covers it). Each is stored, then published on
 * ledger.audit.checkpoints.v1 (those not yet published go out at start).
 */
export class TreeHeads {
  private readonly logger = new Logger('audit-tree-heads');
  private newest: SignedTreeHeadV1 | null = null;
  private readonly p;

  constructor(
    private readonly log: AuditLog,
    private readonly keystore: Keystore,
    private readonly bus: IntegrationEvents,
    private readonly clock: Clock,
    private readonly everyEvents: number,
  ) {
    this.p = placeholders(log.db);
  }

  get latest(): SignedTreeHeadV1 | null {
    return this.newest;
  }

  async load(): Promise<void> {
    const [row] = (await this.log.db.query(`SELECT * FROM au_tree_heads ORDER BY tree_size DESC LIMIT 1`)) as TreeHeadRowRaw[];
    this.newest = row ? toHead(row) : null;
  }

  /** Signs when the log grew by `everyEvents` since the last head. */
  async afterAppend(): Promise<void> {
    if (this.log.size - (this.newest?.treeSize ?? 0) >= this.everyEvents) await this.sign();
  }

  /** Signs the current tree when it grew since the last head (the interval timer). */
  async ifGrown(): Promise<void> {
    if (this.log.size > (this.newest?.treeSize ?? -1)) await this.sign();
  }

  /** A signed head that covers at least `size` events: the newest, or a new one signed now. */
  async covering(size: number): Promise<SignedTreeHeadV1> {
    if (this.newest && this.newest.treeSize >= size) return this.newest;
    return this.sign();
  }

  /** Signs the tree as it is now, stores and publishes the head. */
  sign(): Promise<SignedTreeHeadV1> {
    return this.signAt(null);
  }

  /**
   * The signed head of exactly `size` events (an export up to a position): the
   * stored one, or one signed now — the root of the first `size` leaves, which
   * the tree still holds — without making it the newest.
   */
  async ofSizeOrSigned(size: number): Promise<SignedTreeHeadV1> {
    return (await this.ofSize(size)) ?? this.signAt(size);
  }

  private signAt(at: number | null): Promise<SignedTreeHeadV1> {
    return this.log.inTurn(async () => {
      const size = at ?? this.log.size;
      if (this.newest && this.newest.treeSize === size) return this.newest;
      const stored = at === null ? null : await this.ofSize(size);
      if (stored) return stored;
      const lastPosition = size === this.log.size ? this.log.lastPosition : size === 0 ? 0 : Number(((await this.log.db.query(`SELECT position FROM au_leaves WHERE leaf_index = ${this.p(1)}`, [size - 1])) as { position: string | number }[])[0]!.position);
      const { kid, key } = await this.keystore.signingKey();
      const unsigned = { version: SIGNED_TREE_HEAD_VERSION, treeSize: size, rootHash: this.log.tree.root(size).toString('hex'), lastPosition, timestamp: this.clock.now().toISOString(), kid } as const;
      const signature = Buffer.from(await crypto.subtle.sign('Ed25519', key as Parameters<typeof crypto.subtle.sign>[1], new Uint8Array(treeHeadMessage(unsigned)))).toString('base64url');
      const head: SignedTreeHeadV1 = { ...unsigned, signature };
      const p = this.p;
      await this.log.db.query(
        `INSERT INTO au_tree_heads (tree_size, root_hash, last_position, timestamp, kid, signature, published) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, 0) ON CONFLICT (tree_size) DO NOTHING`,
        [head.treeSize, head.rootHash, head.lastPosition, head.timestamp, head.kid, head.signature],
      );
      if (!this.newest || head.treeSize > this.newest.treeSize) this.newest = head;
      void this.publish([head]);
      return head;
    });
  }

  /** Heads not yet on ledger.audit.checkpoints.v1 (a crash between storing and publishing). */
  async publishPending(): Promise<void> {
    const rows = (await this.log.db.query(`SELECT * FROM au_tree_heads WHERE published = 0 ORDER BY tree_size`)) as TreeHeadRowRaw[];
    if (rows.length > 0) await this.publish(rows.map(toHead));
  }

  private async publish(heads: readonly SignedTreeHeadV1[]): Promise<void> {
    try {
      await this.bus.publish(
        TOPICS.auditCheckpoints,
        heads.map((h) => ({ key: 'tree-head', id: `sth:${h.treeSize}:${h.rootHash}`, value: h, partition: 0, headers: { ce_type: 'io.ledger.audit.tree-head.v1' } })),
      );
      const p = this.p;
      await this.log.inTurn(() => this.log.db.query(`UPDATE au_tree_heads SET published = 1 WHERE tree_size IN (${heads.map((_, i) => p(i + 1)).join(', ')})`, heads.map((h) => h.treeSize)));
    } catch (err) {
      // Stored already: published at the next start (or the next head's publish) instead.
      this.logger.warn({ err, heads: heads.map((h) => h.treeSize) }, 'tree heads not published yet; retried at the next start');
    }
  }

  /** Stored heads by size, oldest first, after `afterSize`. */
  async list(afterSize: number, limit: number): Promise<SignedTreeHeadV1[]> {
    const p = this.p;
    const rows = (await this.log.db.query(`SELECT * FROM au_tree_heads WHERE tree_size > ${p(1)} ORDER BY tree_size LIMIT ${p(2)}`, [afterSize, limit])) as TreeHeadRowRaw[];
    return rows.map(toHead);
  }

  /** The head of exactly this size, if one was signed. */
  async ofSize(size: number): Promise<SignedTreeHeadV1 | null> {
    const [row] = (await this.log.db.query(`SELECT * FROM au_tree_heads WHERE tree_size = ${this.p(1)}`, [size])) as TreeHeadRowRaw[];
    return row ? toHead(row) : null;
  }
}
