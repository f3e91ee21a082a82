import { ACCESS_REQUEST_EVENT_TYPES, evolveAccessRequest, initialAccessRequestState, type AccessRequestEvent } from '@el/domain';
import { AccessRequestEntity } from '../schema/entities';
import type { AccessRequestRow } from '../schema/rows';
import type { Projection } from './projection';

/** Access requests and their decisions, evolved with the domain's own `evolve`. */
export const accessRequestProjection: Projection<AccessRequestRow> = {
  name: 'access-requests',
  entity: AccessRequestEntity,
  handles: ACCESS_REQUEST_EVENT_TYPES,
  keyOf: (e) => (e.data as { requestId: string }).requestId,
  evolve(row, event) {
    const s = evolveAccessRequest(row?.state ?? initialAccessRequestState, event as unknown as AccessRequestEvent);
    if (s.status === 'none') return row;
    return {
      requestId: s.requestId,
      customerId: s.customerId,
      status: s.status,
      sku: s.sku,
      kind: s.kind,
      quantity: s.quantity,
      requestedBy: s.requestedBy,
      reason: s.reason,
      entitlementId: s.status === 'approved' ? s.entitlementId : (s.entitlementId ?? null),
      requestedAt: s.requestedAt,
      decidedBy: s.status === 'approved' ? s.approvedBy : s.status === 'rejected' ? s.rejectedBy : null,
      decidedAt: s.status === 'pending' ? null : s.decidedAt,
      decisionNote: s.status === 'rejected' ? s.rejectionReason : null,
      fulfilledAt: s.status === 'approved' ? s.fulfilledAt : null,
      state: s,
      lastRevision: event.revision,
      lastPosition: event.position,
    };
  },
};
