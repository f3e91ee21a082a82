export * from './decider-spec';
export * from './infra';
export * from './postgres';
export * from './test-backends';
export * from './kafka';
export * from './esdb';
export * from './until';
export * from './tls';
