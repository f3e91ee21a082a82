import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiException } from '@el/platform';
import { EntitlementWriter } from '../entitlements/entitlement-writer';
import { toEntitlementView, type EntitlementView } from '../entitlements/entitlement.view';

/** Reads the entitlement from its own stream: always current, no read model lag. */
export class GetEntitlementQuery extends Query<EntitlementView> {
  constructor(readonly entitlementId: string) {
    super();
  }
}

@QueryHandler(GetEntitlementQuery)
export class GetEntitlementHandler implements IQueryHandler<GetEntitlementQuery, EntitlementView> {
  constructor(private readonly writer: EntitlementWriter) {}

  async execute(q: GetEntitlementQuery): Promise<EntitlementView> {
    const { state, revision } = await this.writer.read(q.entitlementId);
    if (state.status === 'none') throw new ApiException(404, 'ENTITLEMENT.NOT_FOUND', `entitlement ${q.entitlementId} does not exist`);
    return toEntitlementView(state, revision);
  }
}
