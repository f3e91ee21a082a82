import { call, client } from './client';
import type {
  AccessRequestPage,
  AccessRequestResult,
  AccessRequestView,
  AlertsAnswer,
  CatalogAnswer,
  CustomerSummary,
  DecisionPage,
  DecisionReplayRequestV1,
  HistoryPage,
  ReplayAnswer,
  SeatAssignmentPage,
  SeriesAnswer,
  SignedTreeHeadV1,
  UsageAnswer,
} from './server-types';
import type { components } from './openapi';

export type Entitlement = components['schemas']['EntitlementView'];
export type EntitlementWrite = components['schemas']['EntitlementWriteResponse'];
export type Me = components['schemas']['SessionView'];

/** Every write the console makes is guarded by the revision the viewer saw. */
const ifMatch = (revision: number) => ({ 'if-match': `"${revision}"` });

/** The public API, as the console uses it. Paths and parameters are checked against the OpenAPI document. */
export const api = {
  /** Who the credential in use is; with `credential`, who that one is (signing in: nothing is stored until it is accepted). */
  me: (credential?: string) => call(client.GET('/v1/me', credential ? { headers: { authorization: `Bearer ${credential}` } } : {})),
  catalog: () => call<CatalogAnswer>(client.GET('/v1/catalog')),

  // Entitlements
  customers: (search: string, cursor?: string) => call(client.GET('/v1/customers', { params: { query: { search, limit: 20, ...(cursor ? { cursor } : {}) } } })),
  entitlementsOf: (customerId: string, q: { cursor?: string; status?: 'active' | 'suspended' | 'revoked' | 'expired' } = {}) =>
    call(client.GET('/v1/customers/{customerId}/entitlements', { params: { path: { customerId }, query: { limit: 20, ...q } } })),
  summary: (customerId: string) => call<CustomerSummary>(client.GET('/v1/customers/{customerId}/summary', { params: { path: { customerId } } })),
  entitlement: (id: string, asOf?: string) => call(client.GET('/v1/entitlements/{id}', { params: { path: { id }, query: asOf ? { asOf } : {} } })),
  grant: (body: { customerId: string; sku: string; quantity?: number }) => call(client.POST('/v1/entitlements', { body })),
  changePlan: (id: string, revision: number, body: { sku: string; quantity?: number }) => call(client.POST('/v1/entitlements/{id}/change-plan', { params: { path: { id }, header: ifMatch(revision) as never }, body, headers: ifMatch(revision) })),
  suspend: (id: string, revision: number, reason: string) => call(client.POST('/v1/entitlements/{id}/suspend', { params: { path: { id } }, body: { reason }, headers: ifMatch(revision) })),
  reinstate: (id: string, revision: number, reason: string) => call(client.POST('/v1/entitlements/{id}/reinstate', { params: { path: { id } }, body: { reason }, headers: ifMatch(revision) })),
  revoke: (id: string, revision: number, reason: string) => call(client.POST('/v1/entitlements/{id}/revoke', { params: { path: { id } }, body: { reason }, headers: ifMatch(revision) })),

  // Seats and devices
  seats: (id: string, cursor?: string) => call<SeatAssignmentPage>(client.GET('/v1/entitlements/{id}/seat-assignments', { params: { path: { id }, query: { limit: 20, ...(cursor ? { cursor } : {}) } } })),
  assignSeat: (id: string, revision: number, userId: string) => call(client.POST('/v1/entitlements/{id}/seat-assignments', { params: { path: { id } }, body: { userId }, headers: ifMatch(revision) })),
  releaseSeat: (id: string, revision: number, userId: string) => call(client.DELETE('/v1/entitlements/{id}/seat-assignments/{userId}', { params: { path: { id, userId } }, headers: ifMatch(revision) })),
  activateDevice: (id: string, revision: number, body: { deviceId: string; userId?: string }) => call(client.POST('/v1/entitlements/{id}/devices', { params: { path: { id } }, body, headers: ifMatch(revision) })),
  deactivateDevice: (id: string, revision: number, deviceId: string) => call(client.DELETE('/v1/entitlements/{id}/devices/{deviceId}', { params: { path: { id, deviceId } }, headers: ifMatch(revision) })),

  // Access requests
  requests: (q: { status: 'pending' | 'approved' | 'rejected'; customerId?: string; cursor?: string }) => call<AccessRequestPage>(client.GET('/v1/access-requests', { params: { query: { limit: 20, ...q } } })),
  request: (id: string) => call<AccessRequestView>(client.GET('/v1/access-requests/{id}', { params: { path: { id } } })),
  requestAccess: (body: { customerId: string; sku: string; quantity?: number; reason: string; entitlementId?: string }) => call<AccessRequestResult>(client.POST('/v1/access-requests', { body })),
  approve: (id: string, comment?: string) => call<AccessRequestResult>(client.POST('/v1/access-requests/{id}/approve', { params: { path: { id } }, body: comment ? { comment } : {} })),
  reject: (id: string, reason: string) => call<AccessRequestResult>(client.POST('/v1/access-requests/{id}/reject', { params: { path: { id } }, body: { reason } })),

  // Tokens
  issueToken: (body: { customerId: string; userId?: string; deviceId?: string }) => call(client.POST('/v1/tokens', { body })),

  // Usage
  usage: (customerId: string) => call<UsageAnswer>(client.GET('/v1/customers/{customerId}/usage', { params: { path: { customerId } } })),
  series: (customerId: string, q: { feature: string; entitlementId: string; windowSize?: 'hour' | 'day' }) => call<SeriesAnswer>(client.GET('/v1/customers/{customerId}/usage/series', { params: { path: { customerId }, query: q } })),
  alerts: (customerId: string) => call<AlertsAnswer>(client.GET('/v1/customers/{customerId}/alerts', { params: { path: { customerId } } })),

  // Audit
  latestTreeHead: () => call<SignedTreeHeadV1>(client.GET('/v1/audit/tree-heads/latest')),
  history: (q: { entitlementId?: string; customerId?: string; types?: string; cursor?: number }) => call<HistoryPage>(client.GET('/v1/audit/history', { params: { query: { limit: 50, ...q } } })),
  verification: () => call(client.GET('/v1/audit/verifications/latest')),
  verify: () => call(client.POST('/v1/audit/verifications')),
  decisions: (q: { customerId?: string; cursor?: number }) => call<DecisionPage>(client.GET('/v1/audit/decisions', { params: { query: { limit: 20, ...q } } })),
  replay: (body: DecisionReplayRequestV1) => call<ReplayAnswer>(client.POST('/v1/audit/decisions/replay', { body: body as never })),
  /** The export as a file (JSON lines), fetched with the credential in its header. */
  exportAudit: async (q: { fromPosition?: number; toPosition?: number; customerId?: string }): Promise<Blob> => {
    const r = await client.GET('/v1/audit/export', { params: { query: q }, parseAs: 'blob' });
    return call<Blob>(Promise.resolve(r));
  },
};
