import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccessRequestProcess } from './access-requests/access-request-process';
import { AccessRequestsController } from './access-requests/access-requests.http.controller';
import { AssignSeatsController } from './assign-seats/assign-seats.http.controller';
import { ExpirySweeper } from './background/expiry-sweeper';
import { ERP_ORDERS_CONCURRENCY, ERP_ORDERS_GROUP, ErpOrderConsumer } from './erp-order-intake/erp-order-consumer';
import { OrderRecovery } from './background/order-recovery';
import { ChangePlanController } from './change-plan/change-plan.http.controller';
import { ChangeSeatsController } from './change-seats/change-seats.http.controller';
import { ApplyEntitlementCommandHandler } from './entitlements/apply-entitlement-command';
import { EntitlementApi } from './entitlements/entitlement-api';
import { EntitlementWriter } from './entitlements/entitlement-writer';
import { GetCatalogController } from './get-catalog/get-catalog.http.controller';
import { GetCustomerSummaryController } from './get-customer-summary/get-customer-summary.http.controller';
import { GetCustomerSummaryHandler } from './get-customer-summary/get-customer-summary.query';
import { GetOrderHandler } from './get-order/get-order.query';
import { ListAccessRequestsHandler } from './list-access-requests/list-access-requests.query';
import { ListSeatAssignmentsHandler } from './list-seat-assignments/list-seat-assignments.query';
import { GetEntitlementController } from './get-entitlement/get-entitlement.http.controller';
import { GetEntitlementHandler } from './get-entitlement/get-entitlement.query';
import { GrantEntitlementController } from './grant-entitlement/grant-entitlement.http.controller';
import { CatalogService } from './infrastructure/catalog.service';
import { EventStreams } from './infrastructure/event-streams';
import { IdempotencyKeys } from './infrastructure/idempotency-keys';
import { LEDGER_CONFIG, type LedgerConfig } from './ledger.config';
import { LicenseTokens } from './license-tokens/license-tokens';
import { LicenseTokensController } from './license-tokens/license-tokens.http.controller';
import { ListEntitlementsController } from './list-entitlements/list-entitlements.http.controller';
import { ListEntitlementsHandler } from './list-entitlements/list-entitlements.query';
import { ListSeatAssignmentsController } from './list-seat-assignments/list-seat-assignments.http.controller';
import { ManageAddOnsController } from './manage-add-ons/manage-add-ons.http.controller';
import { ManageDevicesController } from './manage-devices/manage-devices.http.controller';
import { OrderProcess } from './place-order/order-process';
import { PlaceOrderHandler } from './place-order/place-order.command';
import { PlaceOrderController } from './place-order/place-order.http.controller';
import { RenewEntitlementController } from './renew-entitlement/renew-entitlement.http.controller';
import { RevokeEntitlementController } from './revoke-entitlement/revoke-entitlement.http.controller';
import { SuspendEntitlementController } from './suspend-entitlement/suspend-entitlement.http.controller';

/**
 * The ledger: command side (orders, grants, lifecycle, seats, devices, access
 * requests) over the event store, and queries over the read models.
 * Requires PlatformModule, EventStoreModule, ReadModelsModule and MessagingModule.
 */
@Module({})
export class LedgerModule {
  static register(config: LedgerConfig & { ERP_ORDERS_GROUP: string; ERP_ORDERS_CONCURRENCY: number; DATA_DIR?: string }): DynamicModule {
    return {
      module: LedgerModule,
      imports: [CqrsModule.forRoot()],
      controllers: [
        GetCatalogController,
        PlaceOrderController,
        GrantEntitlementController,
        ListEntitlementsController,
        GetEntitlementController,
        GetCustomerSummaryController,
        ListSeatAssignmentsController,
        ChangePlanController,
        ManageAddOnsController,
        ChangeSeatsController,
        RenewEntitlementController,
        SuspendEntitlementController,
        RevokeEntitlementController,
        AssignSeatsController,
        ManageDevicesController,
        AccessRequestsController,
        LicenseTokensController,
      ],
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        { provide: ERP_ORDERS_GROUP, useValue: config.ERP_ORDERS_GROUP },
        { provide: ERP_ORDERS_CONCURRENCY, useValue: config.ERP_ORDERS_CONCURRENCY },
        ErpOrderConsumer,
        EventStreams,
        IdempotencyKeys,
        CatalogService,
        EntitlementWriter,
        EntitlementApi,
        OrderProcess,
        AccessRequestProcess,
        ApplyEntitlementCommandHandler,
        PlaceOrderHandler,
        GetEntitlementHandler,
        ListEntitlementsHandler,
        ListSeatAssignmentsHandler,
        GetCustomerSummaryHandler,
        GetOrderHandler,
        ListAccessRequestsHandler,
        ExpirySweeper,
        OrderRecovery,
        LicenseTokens,
      ],
      exports: [CatalogService, EntitlementWriter, OrderProcess, ExpirySweeper, OrderRecovery, LicenseTokens],
    };
  }
}
