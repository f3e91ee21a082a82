import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AdminKeyBootstrap } from './api-keys/admin-key-bootstrap';
import { ApiKeyLog } from './api-keys/api-key-log';
import { CreateApiKeyHandler } from './create-api-key/create-api-key.handler';
import { CreateApiKeyController } from './create-api-key/create-api-key.http.controller';
import { ListApiKeysController } from './list-api-keys/list-api-keys.http.controller';
import { ListApiKeysHandler } from './list-api-keys/list-api-keys.query';
import { RevokeApiKeyHandler } from './revoke-api-key/revoke-api-key.handler';
import { RevokeApiKeyController } from './revoke-api-key/revoke-api-key.http.controller';
import { AccessFulfilment } from './access-requests/access-fulfilment';
import { AccessRequestRepository } from './access-requests/access-request.repository';
import { ActivateDeviceController } from './activate-device/activate-device.http.controller';
import { ActivateDeviceHandler } from './activate-device/activate-device.handler';
import { ApprovalRecovery } from './approve-access-request/approval-recovery';
import { ApproveAccessRequestHandler } from './approve-access-request/approve-access-request.handler';
import { ApproveAccessRequestController } from './approve-access-request/approve-access-request.http.controller';
import { AssignSeatHandler } from './assign-seat/assign-seat.handler';
import { AssignSeatController } from './assign-seat/assign-seat.http.controller';
import { AttachAddOnHandler } from './attach-add-on/attach-add-on.handler';
import { AttachAddOnController } from './attach-add-on/attach-add-on.http.controller';
import { ChangePlanHandler } from './change-plan/change-plan.handler';
import { ChangePlanController } from './change-plan/change-plan.http.controller';
import { ChangeSeatsHandler } from './change-seats/change-seats.handler';
import { ChangeSeatsController } from './change-seats/change-seats.http.controller';
import { DeactivateDeviceHandler } from './deactivate-device/deactivate-device.handler';
import { DeactivateDeviceController } from './deactivate-device/deactivate-device.http.controller';
import { DetachAddOnHandler } from './detach-add-on/detach-add-on.handler';
import { DetachAddOnController } from './detach-add-on/detach-add-on.http.controller';
import { EntitlementChanges } from './entitlements/entitlement-changes';
import { EntitlementRepository } from './entitlements/entitlement.repository';
import { ERP_ORDERS_SUBSCRIPTION, ErpOrdersController, ErpOrderSubscription } from './erp-order-intake/erp-orders.controller';
import { ExpireEntitlementHandler } from './expire-entitlement/expire-entitlement.handler';
import { ExpirySweeper } from './expire-entitlement/expiry-sweeper';
import { GetAccessRequestHandler } from './get-access-request/get-access-request.query';
import { GetAccessRequestController } from './get-access-request/get-access-request.http.controller';
import { GetCatalogController } from './get-catalog/get-catalog.http.controller';
import { GetCustomerSummaryController } from './get-customer-summary/get-customer-summary.http.controller';
import { GetCustomerSummaryHandler } from './get-customer-summary/get-customer-summary.query';
import { GetEntitlementController } from './get-entitlement/get-entitlement.http.controller';
import { GetEntitlementHandler } from './get-entitlement/get-entitlement.query';
import { GetEntitlementAsOfHandler } from './get-entitlement/get-entitlement-as-of.query';
import { GetOrderController } from './get-order/get-order.http.controller';
import { GetOrderHandler } from './get-order/get-order.query';
import { GrantEntitlementHandler } from './grant-entitlement/grant-entitlement.handler';
import { GrantEntitlementController } from './grant-entitlement/grant-entitlement.http.controller';
import { CatalogService } from './infrastructure/catalog.service';
import { EventStreams } from './infrastructure/event-streams';
import { StreamSnapshots } from './infrastructure/stream-snapshots';
import { IdempotencyKeys } from './infrastructure/idempotency-keys';
import { IssueLicenseTokenHandler } from './issue-license-token/issue-license-token.handler';
import { IssueLicenseTokenController } from './issue-license-token/issue-license-token.http.controller';
import { LEDGER_CONFIG, type LedgerConfig } from './ledger.config';
import { JwksController } from '@el/platform';
import { LicenseTokenIssuer } from './license-tokens/license-token-issuer';
import { ListAccessRequestsController } from './list-access-requests/list-access-requests.http.controller';
import { ListAccessRequestsHandler } from './list-access-requests/list-access-requests.query';
import { ListEntitlementsController } from './list-entitlements/list-entitlements.http.controller';
import { ListEntitlementsHandler } from './list-entitlements/list-entitlements.query';
import { ListCustomerEntitlementsAsOfHandler } from './list-entitlements/list-entitlements-as-of.query';
import { ListSeatAssignmentsController } from './list-seat-assignments/list-seat-assignments.http.controller';
import { ListSeatAssignmentsHandler } from './list-seat-assignments/list-seat-assignments.query';
import { SearchCustomersController } from './search-customers/search-customers.http.controller';
import { SearchCustomersHandler } from './search-customers/search-customers.query';
import { OrderProcess } from './place-order/order-process';
import { OrderRecovery } from './place-order/order-recovery';
import { PlaceOrderHandler } from './place-order/place-order.handler';
import { PlaceOrderController } from './place-order/place-order.http.controller';
import { DunningProcess } from './payment-webhooks/dunning-process';
import { DunningSweeper } from './payment-webhooks/dunning-sweeper';
import { PaymentWebhookVerifier } from './payment-webhooks/payment-webhook-verifier';
import { PaymentWebhooksController } from './payment-webhooks/payment-webhooks.http.controller';
import { ReceivePaymentEventHandler } from './payment-webhooks/receive-payment-event.handler';
import { RefreshLicenseTokenHandler } from './refresh-license-token/refresh-license-token.handler';
import { RefreshLicenseTokenController } from './refresh-license-token/refresh-license-token.http.controller';
import { ReinstateEntitlementHandler } from './reinstate-entitlement/reinstate-entitlement.handler';
import { ReinstateEntitlementController } from './reinstate-entitlement/reinstate-entitlement.http.controller';
import { RejectAccessRequestHandler } from './reject-access-request/reject-access-request.handler';
import { RejectAccessRequestController } from './reject-access-request/reject-access-request.http.controller';
import { ReleaseSeatHandler } from './release-seat/release-seat.handler';
import { ReleaseSeatController } from './release-seat/release-seat.http.controller';
import { RenewEntitlementHandler } from './renew-entitlement/renew-entitlement.handler';
import { RenewEntitlementController } from './renew-entitlement/renew-entitlement.http.controller';
import { RequestAccessHandler } from './request-access/request-access.handler';
import { RequestAccessController } from './request-access/request-access.http.controller';
import { RevokeEntitlementHandler } from './revoke-entitlement/revoke-entitlement.handler';
import { RevokeEntitlementController } from './revoke-entitlement/revoke-entitlement.http.controller';
import { SuspendEntitlementHandler } from './suspend-entitlement/suspend-entitlement.handler';
import { SuspendEntitlementController } from './suspend-entitlement/suspend-entitlement.http.controller';

/** One folder per use case: its command (or query), handler and controller. */
const USE_CASES = {
  controllers: [
    PlaceOrderController,
    GetOrderController,
    GrantEntitlementController,
    ChangePlanController,
    AttachAddOnController,
    DetachAddOnController,
    ChangeSeatsController,
    RenewEntitlementController,
    SuspendEntitlementController,
    ReinstateEntitlementController,
    RevokeEntitlementController,
    AssignSeatController,
    ReleaseSeatController,
    ActivateDeviceController,
    DeactivateDeviceController,
    RequestAccessController,
    ApproveAccessRequestController,
    RejectAccessRequestController,
    GetAccessRequestController,
    ListAccessRequestsController,
    IssueLicenseTokenController,
    RefreshLicenseTokenController,
    JwksController,
    GetCatalogController,
    GetEntitlementController,
    ListEntitlementsController,
    ListSeatAssignmentsController,
    GetCustomerSummaryController,
    SearchCustomersController,
    CreateApiKeyController,
    ListApiKeysController,
    RevokeApiKeyController,
    PaymentWebhooksController,
    // erp.orders.v1, served by the bus transport (@EventPattern).
    ErpOrdersController,
  ],
  handlers: [
    PlaceOrderHandler,
    GrantEntitlementHandler,
    ChangePlanHandler,
    AttachAddOnHandler,
    DetachAddOnHandler,
    ChangeSeatsHandler,
    RenewEntitlementHandler,
    SuspendEntitlementHandler,
    ReinstateEntitlementHandler,
    RevokeEntitlementHandler,
    ExpireEntitlementHandler,
    AssignSeatHandler,
    ReleaseSeatHandler,
    ActivateDeviceHandler,
    DeactivateDeviceHandler,
    RequestAccessHandler,
    ApproveAccessRequestHandler,
    RejectAccessRequestHandler,
    IssueLicenseTokenHandler,
    RefreshLicenseTokenHandler,
    GetOrderHandler,
    GetAccessRequestHandler,
    GetEntitlementHandler,
    GetEntitlementAsOfHandler,
    ListEntitlementsHandler,
    ListCustomerEntitlementsAsOfHandler,
    ListSeatAssignmentsHandler,
    ListAccessRequestsHandler,
    GetCustomerSummaryHandler,
    SearchCustomersHandler,
    CreateApiKeyHandler,
    RevokeApiKeyHandler,
    ListApiKeysHandler,
    ReceivePaymentEventHandler,
  ],
};

/**
 * The ledger: command side (orders, grants, lifecycle, seats, devices, access
 * requests, license tokens, payment gateway webhooks and dunning) over the event store, and queries over the read
 * models. Requires PlatformModule, EventStoreModule, ReadModelsModule and
 * MessagingModule, and IdentityModule with keys from the store.
 */
@Module({})
export class LedgerModule {
  static register(config: LedgerConfig & { ERP_ORDERS_GROUP: string; ERP_ORDERS_CONCURRENCY: number; DATA_DIR?: string }): DynamicModule {
    return {
      module: LedgerModule,
      imports: [CqrsModule.forRoot()],
      controllers: USE_CASES.controllers,
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        { provide: ERP_ORDERS_SUBSCRIPTION, useValue: { group: config.ERP_ORDERS_GROUP, concurrency: config.ERP_ORDERS_CONCURRENCY } },
        ErpOrderSubscription,
        EventStreams,
        StreamSnapshots,
        IdempotencyKeys,
        CatalogService,
        EntitlementRepository,
        EntitlementChanges,
        AccessRequestRepository,
        AccessFulfilment,
        OrderProcess,
        LicenseTokenIssuer,
        ExpirySweeper,
        OrderRecovery,
        ApprovalRecovery,
        ApiKeyLog,
        AdminKeyBootstrap,
        PaymentWebhookVerifier,
        DunningProcess,
        DunningSweeper,
        ...USE_CASES.handlers,
      ],
      exports: [CatalogService, EntitlementRepository, OrderProcess, ExpirySweeper, OrderRecovery, ApprovalRecovery, LicenseTokenIssuer, DunningSweeper],
    };
  }
}
