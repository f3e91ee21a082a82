import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { commandForApprovedRequest, decideAccessRequest, decideEntitlement, DomainError, evolveAccessRequest } from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { Clock, deterministicId } from '@el/platform';
import { AccessFulfilment } from '../access-requests/access-fulfilment';
import { AccessRequestRepository, type AccessRequestResult } from '../access-requests/access-request.repository';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { CatalogService } from '../infrastructure/catalog.service';
import { commandMetadata } from '../infrastructure/command-metadata';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { ApproveAccessRequestCommand } from './approve-access-request.command';

/**
 * Records the approval, then carries it out (`AccessFulfilment`). The grant
 * is checked before the approval is recorded, so an approval never promises
 * what cannot happen; a crash between the two is finished by ApprovalRecovery.
 */
@CommandHandler(ApproveAccessRequestCommand)
export class ApproveAccessRequestHandler implements ICommandHandler<ApproveAccessRequestCommand, AccessRequestResult> {
  constructor(
    private readonly requests: AccessRequestRepository,
    private readonly entitlements: EntitlementRepository,
    private readonly fulfilment: AccessFulfilment,
    private readonly catalog: CatalogService,
    private readonly clock: Clock,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  async execute(c: ApproveAccessRequestCommand): Promise<AccessRequestResult> {
    const meta = commandMetadata(c.context, this.clock);
    let loaded = await this.requests.load(c.requestId);
    // A retried approval by the same approver finishes the grant instead of failing.
    const retry = loaded.state.status === 'approved' && loaded.state.approvedBy === meta.actor.id;
    let approvedNow = false;
    if (!retry) {
      const events = decideAccessRequest(
        { type: 'ApproveAccess', data: { approvedBy: meta.actor.id, comment: c.comment, newEntitlementId: deterministicId('entitlement', 'access-request', c.requestId) }, metadata: meta },
        loaded.state,
      );
      const approved = events.reduce(evolveAccessRequest, loaded.state);
      if (approved.status !== 'approved') throw new Error(`approving ${c.requestId} left it ${approved.status}`);
      // Check the grant before recording the approval, so an approval never records a grant that cannot happen.
      decideEntitlement(commandForApprovedRequest(approved, this.catalog.current(), meta), (await this.entitlements.load(approved.entitlementId)).state);
      try {
        approvedNow = !(await this.requests.append(loaded, events, `access-request:${c.requestId}:approve`)).duplicate;
      } catch (err) {
        if (isConcurrencyError(err)) throw new DomainError('ACCESS_REQUEST.ALREADY_DECIDED', `access request ${c.requestId} was decided concurrently`);
        throw err;
      }
      if (this.config.LEDGER_TEST_PAUSE_AFTER_APPROVAL) await pauseForTest();
      loaded = await this.requests.load(c.requestId);
    }
    const done = await this.fulfilment.fulfil(loaded, meta);
    if (done.failure) throw done.failure;
    return {
      requestId: c.requestId,
      status: 'approved',
      revision: done.revision,
      position: Math.max(loaded.position, done.position),
      replayed: !approvedNow && done.replayed,
      entitlementId: done.entitlementId,
      entitlementEvents: done.entitlementEvents,
    };
  }
}

/** Holds the approval here, recorded but not carried out, so a test can kill the process at the worst moment. */
async function pauseForTest(): Promise<never> {
  process.stdout.write('ledger paused after recording an approval\n');
  return new Promise<never>(() => undefined);
}
