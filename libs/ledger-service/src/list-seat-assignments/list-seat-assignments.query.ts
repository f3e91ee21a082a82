import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadModelQueries, ReadYourWrites, type PageRequest } from '@el/read-models';

export interface SeatAssignmentPage {
  readonly position: number;
  readonly items: { userId: string; assignedAt: string }[];
  readonly nextCursor: string | null;
}

export class ListSeatAssignmentsQuery extends Query<SeatAssignmentPage> {
  constructor(
    readonly entitlementId: string,
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
  ) {}

  async execute(q: ListSeatAssignmentsQuery): Promise<SeatAssignmentPage> {
    const position = await this.ryw.require(q.minPosition);
    const page = await this.ryw.page(() => this.queries.listSeatAssignments(q.entitlementId, q.page));
    return { position, items: page.items.map((s) => ({ userId: s.userId, assignedAt: s.assignedAt })), nextCursor: page.nextCursor };
  }
}
