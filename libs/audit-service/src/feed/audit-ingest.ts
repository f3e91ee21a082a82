import { Logger } from '@nestjs/common';
import type { Metrics } from '@el/platform';
import type { AuditLog } from '../log/audit-log';
import type { LoggedEvent } from '../log/audit-entry';
import type { TreeHeads } from '../tree-heads/tree-heads';

/**
 * Appends a batch of the log to the audit log, then signs a tree head when
 * due; counts what happened. The one path both feeds (the event store in
 * process, ledger.audit.v1 on Kafka) take.
 */
export class AuditIngest {
  private readonly logger = new Logger('audit');
  private readonly appended;
  private readonly divergent;
  private lastError: string | null = null;
  private divergence: { count: number; first: number } | null = null;

  constructor(
    private readonly log: AuditLog,
    private readonly heads: TreeHeads,
    metrics: Metrics,
  ) {
    this.appended = metrics.counter('audit_events_logged_total', 'Events added to the audit log (leaves of its Merkle tree)');
    this.divergent = metrics.counter('audit_divergent_events_total', 'Events redelivered with other content than the audit log holds at their position, or behind its last position and never held (never stored; each is logged as an error)');
    metrics.gauge('audit_tree_size', 'Leaves of the audit log\'s Merkle tree', [], (g) => g.set(log.size));
    metrics.gauge('audit_last_position', 'Ledger position of the newest event in the audit log', [], (g) => g.set(log.lastPosition));
  }

  /** Events received that the log does not hold as received (since start), and the first one's position. */
  get divergentEvents(): { count: number; first: number } | null {
    return this.divergence;
  }

  /** The last failure of the feed, until a batch succeeds again. */
  get error(): string | null {
    return this.lastError;
  }

  failed(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
  }

  async ingest(events: readonly LoggedEvent[], state: Readonly<Record<string, string>> = {}): Promise<void> {
    const outcome = await this.log.append(events, state);
    this.appended.inc(outcome.appended);
    for (const d of outcome.divergent) {
      this.divergent.inc();
      this.divergence = { count: (this.divergence?.count ?? 0) + 1, first: this.divergence?.first ?? d.position };
      this.logger.error({ position: d.position, held: d.held, received: d.received }, d.held === null ? 'an event arrived behind the audit log\'s last position that it never held: is the feed mixing two logs (AUDIT_TOPIC shared by two installations)? — run `npm run audit -- check-store`' : 'an event arrived again with other content than the audit log holds at its position; kept the logged one — run `npm run audit -- check-store`');
    }
    this.lastError = null;
    await this.heads.afterAppend();
  }
}
