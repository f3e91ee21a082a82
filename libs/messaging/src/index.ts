export * from './integration-events.port';
export * from './entitlement-feed';
export * from './kafka/kafka-integration-events';
export * from './inprocess/in-process-integration-events';
export * from './relay/entitlement-relay';
export * from './nest/messaging.config';
export * from './nest/messaging.module';
export * from './nest/relay.module';
