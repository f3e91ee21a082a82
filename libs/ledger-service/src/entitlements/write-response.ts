import type { FastifyReply } from 'fastify';
import { ApiException } from '@el/platform';
import type { WriteResult } from './entitlement-writer';
import { toEntitlementView, type EntitlementWriteResponse } from './entitlement.view';

/** Sets the ETag and shapes the body every entitlement write returns. */
export function writeResponse(reply: FastifyReply, r: WriteResult): EntitlementWriteResponse {
  if (r.state.status === 'none') throw new ApiException(404, 'ENTITLEMENT.NOT_FOUND', `entitlement ${r.entitlementId} does not exist`);
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
