import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError, type AccessRequestState } from '@el/domain';
import { AccessRequestRepository } from '../access-requests/access-request.repository';
import type { Principal } from '@el/platform';
import { assertSeesAccessRequest } from '../infrastructure/visibility';

export type AccessRequestView = Exclude<AccessRequestState, { status: 'none' }> & { readonly revision: number };

/** One access request and its decision, from its own stream (never behind). */
export class GetAccessRequestQuery extends Query<AccessRequestView> {
  constructor(
    readonly requestId: string,
    readonly viewer: Principal,
  ) {
    super();
  }
}

@QueryHandler(GetAccessRequestQuery)
export class GetAccessRequestHandler implements IQueryHandler<GetAccessRequestQuery, AccessRequestView> {
  constructor(private readonly requests: AccessRequestRepository) {}

  async execute(q: GetAccessRequestQuery): Promise<AccessRequestView> {
    const { state, revision } = await this.requests.load(q.requestId);
    if (state.status === 'none') throw new DomainError('ACCESS_REQUEST.NOT_FOUND', `access request ${q.requestId} does not exist`);
    assertSeesAccessRequest(q.viewer, q.requestId, state.customerId);
    return { ...state, revision };
  }
}
