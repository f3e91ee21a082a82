import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadModelQueries, ReadYourWrites, type PageRequest } from '@el/read-models';
import { DomainError } from '@el/domain';
import type { Principal } from '@el/platform';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { assertSeesEntitlement } from '../infrastructure/visibility';

export interface SeatAssignmentPage {
  readonly position: number;
  readonly items: { userId: string; assignedAt: string }[];
  readonly nextCursor: string | null;
}

export class ListSeatAssignmentsQuery extends Query<SeatAssignmentPage> {
  constructor(
    readonly entitlementId: string,
    readonly viewer: Principal,
    readonly page: PageRequest,
    readonly minPosition?: number,
  ) {
    super();
  }
}

@QueryHandler(ListSeatAssignmentsQuery)
export class ListSeatAssignmentsHandler implements IQueryHandler<ListSeatAssignmentsQuery, SeatAssignmentPage> {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
    private readonly entitlements: EntitlementRepository,
  ) {}

  async execute(q: ListSeatAssignmentsQuery): Promise<SeatAssignmentPage> {
    if (q.viewer.customers !== null) {
      const { state } = await this.entitlements.load(q.entitlementId);
      if (state.status === 'none') throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${q.entitlementId} does not exist`);
      assertSeesEntitlement(q.viewer, q.entitlementId, state.customerId);
    }
    const position = await this.ryw.require(q.minPosition);
    const page = await this.ryw.page(() => this.queries.listSeatAssignments(q.entitlementId, q.page));
    return { position, items: page.items.map((s) => ({ userId: s.userId, assignedAt: s.assignedAt })), nextCursor: page.nextCursor };
  }
}
