import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError, entitlementAsOf, resolveAsOf, type AsOfRequest } from '@el/domain';
import { Clock, type Principal } from '@el/platform';
import type { EntitlementAsOfView } from '../entitlements/as-of';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { toEntitlementView } from '../entitlements/entitlement.view';
import { assertSeesEntitlement } from '../infrastructure/visibility';

/** An entitlement as the ledger, as of `recordedAsOf`, believed it stood at `asOf`: from its own stream. */
export class GetEntitlementAsOfQuery extends Query<EntitlementAsOfView> {
  constructor(
    readonly entitlementId: string,
    readonly viewer: Principal,
    readonly at: AsOfRequest,
  ) {
    super();
  }
}

@QueryHandler(GetEntitlementAsOfQuery)
export class GetEntitlementAsOfHandler implements IQueryHandler<GetEntitlementAsOfQuery, EntitlementAsOfView> {
  constructor(
    private readonly entitlements: EntitlementRepository,
    private readonly clock: Clock,
  ) {}

  async execute(q: GetEntitlementAsOfQuery): Promise<EntitlementAsOfView> {
    const { events, customerId } = await this.entitlements.history(q.entitlementId);
    if (customerId === null) throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${q.entitlementId} does not exist`);
    // Visibility by the owner it has today (an entitlement never changes customer), before any
    // time travel: another customer's entitlement answers as one that never existed, whatever the times.
    assertSeesEntitlement(q.viewer, q.entitlementId, customerId);
    const at = resolveAsOf(q.at, this.clock.now().toISOString());
    const { state, revision } = entitlementAsOf(events, at);
    if (state.status === 'none') {
      throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${q.entitlementId} was not in force at ${at.asOf} as recorded by ${at.recordedAsOf}`, { ...at });
    }
    return { ...toEntitlementView(state, revision), asOf: at };
  }
}
