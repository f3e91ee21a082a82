export * from './ledger.config';
export * from './ledger.errors';
export * from './ledger.module';
export * from './infrastructure/catalog.service';
export * from './entitlements/entitlement-writer';
export * from './place-order/order-process';
export * from './background/expiry-sweeper';
export * from './background/order-recovery';
