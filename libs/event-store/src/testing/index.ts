export * from './event-store.contract';
export * from './ledger-log';
