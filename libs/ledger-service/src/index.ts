export * from './ledger.config';
export * from './ledger.errors';
export * from './ledger.module';
export * from './api-keys/admin-key-bootstrap';
// What the read routes answer, for clients typed from the server's own declarations (the web console).
export type { AccessRequestPage } from './list-access-requests/list-access-requests.query';
export type { AccessRequestResult } from './access-requests/access-request.repository';
export type { AccessRequestView } from './get-access-request/get-access-request.query';
export type { SeatAssignmentPage } from './list-seat-assignments/list-seat-assignments.query';
export type { CustomerSummary } from './get-customer-summary/get-customer-summary.query';
export type { GetCatalogController } from './get-catalog/get-catalog.http.controller';
export * from './search-customers/customer-list.view';
export { EntitlementRepository, type LoadedEntitlement } from './entitlements/entitlement.repository';
export { toEntitlementView, type EntitlementView } from './entitlements/entitlement.view';
export { EventStreams, eventIdFor } from './infrastructure/event-streams';
export { StreamSnapshots, snapshotPath } from './infrastructure/stream-snapshots';
