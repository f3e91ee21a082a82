import type { FastifyReply } from 'fastify';
import { DomainError } from '@el/domain';
import type { EntitlementWriteResult } from './entitlement-changes';
import { toEntitlementView, type EntitlementWriteResponse } from './entitlement.view';

/** Sets the ETag and shapes the body every entitlement write returns. */
export function writeResponse(reply: FastifyReply, r: EntitlementWriteResult): EntitlementWriteResponse {
  if (r.state.status === 'none') throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${r.entitlementId} does not exist`);
  void reply.header('etag', `"${r.revision}"`);
  return {
    entitlementId: r.entitlementId,
    revision: r.revision,
    position: r.position,
    events: r.events,
    replayed: r.replayed,
    entitlement: toEntitlementView(r.state, r.revision),
  };
}
