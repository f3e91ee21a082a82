import { resolveSku, type PublishedCatalog } from '../catalog/catalog';
import type { EntitlementCommand } from '../entitlement/entitlement.commands';
import { assertNever, envelope, type Command, type CommandMetadata, type DomainEvent } from '../shared/envelope';
import { reject } from '../shared/errors';

/**
 * An access request is the approval workflow: a customer admin asks for a plan
 * (a new entitlement, or — naming an entitlement — a change of its plan: an
 * upgrade or a downgrade) or an add-on (on an existing one); an approver other
 * than the requester approves, which carries it out, or rejects it.
 */
interface RequestData {
  requestId: string;
  customerId: string;
  sku: string;
  kind: 'plan' | 'add_on';
  quantity: number;
  requestedBy: string;
  reason: string;
  /** The entitlement an add-on request extends, or whose plan a plan request changes. */
  entitlementId?: string;
  catalogVersion: number;
}

export type AccessRequested = DomainEvent<'AccessRequested', RequestData>;
export type AccessApproved = DomainEvent<
  'AccessApproved',
  {
    requestId: string;
    customerId: string;
    approvedBy: string;
    comment: string;
    entitlementId: string;
    /** Set when the approval changes the plan of the named entitlement; absent: a grant (plan) or an attachment (add-on), as the request's kind says. */
    action?: 'change_plan';
  }
>;
/**
 * The approval has been carried out on the entitlement (or could not be, with
 * why): recorded after the grant, so an approval without it is unfinished
 * work that recovery completes.
 */
export type AccessFulfilled = DomainEvent<
  'AccessFulfilled',
  {
    requestId: string;
    customerId: string;
    entitlementId: string;
    /** Event types the grant wrote on the entitlement's stream. */
    entitlementEvents: readonly string[];
    /** Set when the grant was refused (the entitlement changed since the approval). */
    failure?: { code: string; message: string };
  }
>;
export type AccessRejected = DomainEvent<
  'AccessRejected',
  { requestId: string; customerId: string; rejectedBy: string; reason: string }
>;
export type AccessRequestEvent = AccessRequested | AccessApproved | AccessFulfilled | AccessRejected;
export const ACCESS_REQUEST_EVENT_TYPES: readonly AccessRequestEvent['type'][] = ['AccessRequested', 'AccessApproved', 'AccessFulfilled', 'AccessRejected'];

export type RequestAccess = Command<
  'RequestAccess',
  Omit<RequestData, 'kind' | 'catalogVersion'> & { catalog: PublishedCatalog }
>;
export type ApproveAccess = Command<'ApproveAccess', { approvedBy: string; comment: string; newEntitlementId: string }>;
export type RejectAccess = Command<'RejectAccess', { rejectedBy: string; reason: string }>;
export type FulfilAccess = Command<'FulfilAccess', { entitlementEvents: readonly string[]; failure?: { code: string; message: string } }>;
export type AccessRequestCommand = RequestAccess | ApproveAccess | RejectAccess | FulfilAccess;

type Pending = Readonly<RequestData> & { readonly requestedAt: string };
export type AccessRequestState =
  | { readonly status: 'none' }
  | (Pending & { readonly status: 'pending' })
  | (Pending & {
      readonly status: 'approved';
      readonly approvedBy: string;
      readonly decidedAt: string;
      readonly entitlementId: string;
      /** What the approval does on the entitlement. */
      readonly action: ApprovalAction;
      /** When the grant was carried out; null while it is pending (a crash between approval and grant). */
      readonly fulfilledAt: string | null;
      readonly fulfilment: { readonly entitlementEvents: readonly string[]; readonly failure?: { code: string; message: string } } | null;
    })
  | (Pending & { readonly status: 'rejected'; readonly rejectedBy: string; readonly decidedAt: string; readonly rejectionReason: string });

export type ApprovalAction = 'grant' | 'change_plan' | 'attach_add_on';

/** What approving a request does: attach an add-on, change the named entitlement's plan, or grant a new entitlement. */
function approvalAction(request: Pick<RequestData, 'kind' | 'entitlementId'>): ApprovalAction {
  return request.kind === 'add_on' ? 'attach_add_on' : request.entitlementId ? 'change_plan' : 'grant';
}

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
    case 'FulfilAccess': {
      if (state.status !== 'approved') return reject('ACCESS_REQUEST.NOT_APPROVED', `access request ${state.status === 'none' ? '' : `${state.requestId} `}is ${state.status}, not approved`);
      // Carried out already (a retry, or recovery racing the request): nothing more to record.
      if (state.fulfilledAt !== null) return [];
      return [
        {
          type: 'AccessFulfilled',
          data: {
            requestId: state.requestId,
            customerId: state.customerId,
            entitlementId: state.entitlementId,
            entitlementEvents: command.data.entitlementEvents,
            ...(command.data.failure ? { failure: command.data.failure } : {}),
          },
          metadata,
        },
      ];
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
      const action = approvalAction(state);
      return [
        {
          type: 'AccessApproved',
          data: {
            requestId: state.requestId,
            customerId: state.customerId,
            approvedBy: command.data.approvedBy,
            comment: command.data.comment,
            entitlementId: action === 'grant' ? command.data.newEntitlementId : state.entitlementId!,
            ...(action === 'change_plan' ? { action } : {}),
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
        // Approvals recorded before plan changes existed were grants or attachments, as their kind says.
        action: event.data.action ?? (state.kind === 'add_on' ? 'attach_add_on' : 'grant'),
        fulfilledAt: null,
        fulfilment: null,
      };
    case 'AccessFulfilled':
      if (state.status !== 'approved') return state;
      return {
        ...state,
        fulfilledAt: event.metadata.recordedAt,
        fulfilment: { entitlementEvents: event.data.entitlementEvents, ...(event.data.failure ? { failure: event.data.failure } : {}) },
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
  if (request.action === 'attach_add_on') {
    return {
      type: 'AttachAddOn',
      data: { catalog, sku: request.sku, quantity: request.quantity, customerId: request.customerId },
      metadata: meta,
    };
  }
  if (request.action === 'change_plan') {
    return { type: 'ChangePlan', data: { catalog, sku: request.sku, quantity: request.quantity, customerId: request.customerId }, metadata: meta };
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
