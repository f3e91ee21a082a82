export * from './metering.config';
export * from './metering.module';
export * from './meters/meter-registry';
export * from './usage/usage-counters';
export * from './usage/usage-ledger';
export * from './store/schema';
export * from './usage/usage-alerts';
