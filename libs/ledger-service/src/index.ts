export * from './ledger.config';
export * from './ledger.errors';
export * from './ledger.module';
export * from './api-keys/admin-key-bootstrap';
export * from './search-customers/customer-list.view';
