import { resolveSku, type PublishedCatalog } from '../catalog/catalog';
import type { EntitlementCommand } from '../entitlement/entitlement.commands';
import { assertNever, envelope, type Command, type CommandMetadata, type DomainEvent } from '../shared/envelope';
import { reject } from '../shared/errors';

/**
 * An access request is the approval workflow: a customer admin asks for a plan
 * (a new entitlement) or an add-on (on an existing one); an approver other
 * than the requester approves, which grants, or rejects it.
 */
interface RequestData {
  requestId: string;
  customerId: string;
  sku: string;
  kind: 'plan' | 'add_on';
  quantity: number;
  requestedBy: string;
  reason: string;
  /** The entitlement an add-on request extends. */
  entitlementId?: string;
  catalogVersion: number;
}

export type AccessRequested = DomainEvent<'AccessRequested', RequestData>;
export type AccessApproved = DomainEvent<
  'AccessApproved',
  { requestId: string; customerId: string; approvedBy: string; comment: string; entitlementId: string }
>;
export type AccessRejected = DomainEvent<
  'AccessRejected',
  { requestId: string; customerId: string; rejectedBy: string; reason: string }
>;
export type AccessRequestEvent = AccessRequested | AccessApproved | AccessRejected;
export const ACCESS_REQUEST_EVENT_TYPES: readonly AccessRequestEvent['type'][] = ['AccessRequested', 'AccessApproved', 'AccessRejected'];

export type RequestAccess = Command<
  'RequestAccess',
  Omit<RequestData, 'kind' | 'catalogVersion'> & { catalog: PublishedCatalog }
>;
export type ApproveAccess = Command<'ApproveAccess', { approvedBy: string; comment: string; newEntitlementId: string }>;
export type RejectAccess = Command<'RejectAccess', { rejectedBy: string; reason: string }>;
export type AccessRequestCommand = RequestAccess | ApproveAccess | RejectAccess;

type Pending = Readonly<RequestData> & { readonly requestedAt: string };
export type AccessRequestState =
  | { readonly status: 'none' }
  | (Pending & { readonly status: 'pending' })
  | (Pending & { readonly status: 'approved'; readonly approvedBy: string; readonly decidedAt: string; readonly entitlementId: string })
  | (Pending & { readonly status: 'rejected'; readonly rejectedBy: string; readonly decidedAt: string; readonly rejectionReason: string });

export const initialAccessRequestState: AccessRequestState = { status: 'none' };
export const accessRequestStream = (requestId: string): string => `access-request-${requestId}`;

export function decideAccessRequest(command: AccessRequestCommand, state: AccessRequestState): AccessRequestEvent[] {
  const metadata = envelope(command.metadata);
  switch (command.type) {
    case 'RequestAccess': {
      const { catalog, ...d } = command.data;
      if (state.status !== 'none') {
        return reject('ACCESS_REQUEST.ALREADY_EXISTS', `access request ${d.requestId} already exists`, { requestId: d.requestId });
      }
      const resolved = resolveSku(catalog.catalog, d.sku);
      if (!resolved) return reject('CATALOG.UNKNOWN_SKU', `SKU ${d.sku} is not in the catalog`, { sku: d.sku });
      if (!Number.isInteger(d.quantity) || d.quantity < 1) {
        return reject('QUANTITY.INVALID', `quantity must be an integer >= 1, got ${d.quantity}`, { quantity: d.quantity });
      }
      if (resolved.kind === 'add_on' && !d.entitlementId) {
        return reject('CATALOG.NOT_A_PLAN', `SKU ${d.sku} is an add-on: name the entitlementId it should extend`, { sku: d.sku });
      }
      return [{ type: 'AccessRequested', data: { ...d, kind: resolved.kind, catalogVersion: catalog.version }, metadata }];
    }
    case 'ApproveAccess':
    case 'RejectAccess': {
      if (state.status === 'none') return reject('ACCESS_REQUEST.NOT_FOUND', 'access request does not exist');
      if (state.status !== 'pending') {
        return reject('ACCESS_REQUEST.ALREADY_DECIDED', `access request ${state.requestId} was already ${state.status}`, {
          status: state.status,
          decidedAt: state.decidedAt,
        });
      }
      if (command.type === 'RejectAccess') {
        return [
          {
            type: 'AccessRejected',
            data: { requestId: state.requestId, customerId: state.customerId, rejectedBy: command.data.rejectedBy, reason: command.data.reason },
            metadata,
          },
        ];
      }
      if (command.data.approvedBy === state.requestedBy) {
        return reject('ACCESS_REQUEST.SELF_APPROVAL', `${state.requestedBy} requested this access and cannot approve it`, {
          requestedBy: state.requestedBy,
        });
      }
      return [
        {
          type: 'AccessApproved',
          data: {
            requestId: state.requestId,
            customerId: state.customerId,
            approvedBy: command.data.approvedBy,
            comment: command.data.comment,
            entitlementId: state.kind === 'add_on' ? state.entitlementId! : command.data.newEntitlementId,
          },
          metadata,
        },
      ];
    }
    default:
      return assertNever(command, 'access request command');
  }
}

export function evolveAccessRequest(state: AccessRequestState, event: AccessRequestEvent): AccessRequestState {
  switch (event.type) {
    case 'AccessRequested':
      return { status: 'pending', ...event.data, requestedAt: event.metadata.recordedAt };
    case 'AccessApproved':
      if (state.status === 'none') return state;
      return {
        ...state,
        status: 'approved',
        approvedBy: event.data.approvedBy,
        decidedAt: event.metadata.recordedAt,
        entitlementId: event.data.entitlementId,
      };
    case 'AccessRejected':
      if (state.status === 'none') return state;
      return {
        ...state,
        status: 'rejected',
        rejectedBy: event.data.rejectedBy,
        decidedAt: event.metadata.recordedAt,
        rejectionReason: event.data.reason,
      };
    default:
      return assertNever(event, 'access request event');
  }
}

export const accessRequestDecider = {
  decide: decideAccessRequest,
  evolve: evolveAccessRequest,
  initialState: (): AccessRequestState => initialAccessRequestState,
};

/** The entitlement command an approval carries out. */
export function commandForApprovedRequest(
  request: Extract<AccessRequestState, { status: 'approved' }>,
  catalog: PublishedCatalog,
  meta: CommandMetadata,
): EntitlementCommand {
  if (request.kind === 'add_on') {
    return {
      type: 'AttachAddOn',
      data: { catalog, sku: request.sku, quantity: request.quantity, customerId: request.customerId },
      metadata: meta,
    };
  }
  return {
    type: 'GrantEntitlement',
    data: {
      entitlementId: request.entitlementId,
      customerId: request.customerId,
      catalog,
      sku: request.sku,
      quantity: request.quantity,
      origin: { kind: 'access_request', requestId: request.requestId },
    },
    metadata: meta,
  };
}

export function foldAccessRequest(events: readonly AccessRequestEvent[]): AccessRequestState {
  return events.reduce(evolveAccessRequest, initialAccessRequestState);
}
