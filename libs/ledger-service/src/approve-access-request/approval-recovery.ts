import { Inject, Injectable } from '@nestjs/common';
import { InjectEventStore, type EventStore } from '@el/event-store';
import { Clock } from '@el/platform';
import { ReadModelPosition, ReadModelQueries } from '@el/read-models';
import { AccessFulfilment } from '../access-requests/access-fulfilment';
import { AccessRequestRepository } from '../access-requests/access-request.repository';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { Recovery, RECOVERY_GRACE_MS } from '../infrastructure/recovery';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';

/**
 * Carries out approvals a crash left recorded but not granted (AccessApproved
 * without AccessFulfilled), every APPROVAL_RECOVERY_INTERVAL_MS. The grant
 * names the approval as its cause and carries its correlation id.
 */
@Injectable()
export class ApprovalRecovery extends Recovery {
  constructor(
    @Inject(LEDGER_CONFIG) config: LedgerConfig,
    @InjectEventStore() store: EventStore,
    position: ReadModelPosition,
    private readonly readModels: ReadModelQueries,
    private readonly requests: AccessRequestRepository,
    private readonly fulfilment: AccessFulfilment,
    private readonly clock: Clock,
  ) {
    super('approval-recovery', config.APPROVAL_RECOVERY_INTERVAL_MS, store, position);
  }

  async recover(olderThanMs = RECOVERY_GRACE_MS): Promise<number> {
    const stale = await this.readModels.unfulfilledApprovals(new Date(this.clock.now().getTime() - olderThanMs));
    let done = 0;
    for (const row of stale) {
      try {
        const loaded = await this.requests.load(row.requestId);
        if (loaded.state.status !== 'approved' || loaded.state.fulfilledAt !== null) continue;
        const approval = loaded.stream.recorded.find((r) => r.type === 'AccessApproved')!;
        this.logger.warn({ requestId: row.requestId }, 'carrying out an approval that was recorded but not granted');
        const meta = {
          ...commandMetadata(systemContext('approval-recovery', `recovery-${row.requestId}`), this.clock),
          correlationId: String(approval.metadata['correlationId'] ?? `recovery-${row.requestId}`),
          causationId: approval.id,
        };
        if (!(await this.fulfilment.fulfil(loaded, meta)).failure) done += 1;
      } catch (err) {
        this.logger.error({ err, requestId: row.requestId }, 'could not carry out an approval');
      }
    }
    if (stale.length > 0) this.logger.log({ fulfilled: done, found: stale.length }, 'approval recovery finished');
    return done;
  }
}
