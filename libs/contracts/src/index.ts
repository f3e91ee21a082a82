export * from './topics';
export * from './entitlement-event.v1';
export * from './erp-order.v1';
export * from './dead-letter.v1';
export * from './watermark.v1';
export * from './license-token.v1';
export * from './check-api.v1';
