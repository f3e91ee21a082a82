export * from './ledger.config';
export * from './ledger.errors';
export * from './ledger.module';
export * from './license-tokens/keystore';
export * from './api-keys/admin-key-bootstrap';
