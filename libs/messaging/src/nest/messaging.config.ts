import { ConfigError, env, type ConfigOf } from '@el/platform';

export const messagingConfigSpec = {
  BUS: env.oneOf(['inprocess', 'kafka'] as const, { default: 'inprocess', description: 'How services hear of entitlement changes: inprocess (embedded: read from the event store) or kafka' }),
  KAFKA_BROKERS: env.list({ description: 'Kafka bootstrap servers, comma-separated (required when BUS=kafka), e.g. localhost:9092' }),
  KAFKA_CLIENT_ID: env.string({ default: 'entitlement-ledger', description: 'Kafka client id (shows in broker logs and quotas)' }),
  KAFKA_TOPIC_PARTITIONS: env.int({ default: 6, min: 1, max: 10_000, description: 'Partitions of the topics the services create at start' }),
  RELAY_SUBSCRIPTION_ID: env.string({ default: 'kafka-relay', description: 'Stable id of the relay\'s subscription to the event store (its checkpoint)' }),
  RELAY_BATCH_SIZE: env.int({ default: 1000, min: 1, max: 10_000, description: 'Most events the relay publishes per batch (one producer request, then one checkpoint)' }),
  ERP_ORDERS_CONCURRENCY: env.int({ default: 32, min: 1, max: 1000, description: 'ERP order messages of one partition applied at once (orders with the same key always in order)' }),
  ERP_ORDERS_GROUP: env.string({ default: 'ledger-erp-orders', description: 'Consumer group of the ledger\'s ERP order consumer (erp.orders.v1)' }),
};
export type MessagingConfig = ConfigOf<typeof messagingConfigSpec>;

export type BusConfig = { readonly kind: 'inprocess' } | { readonly kind: 'kafka'; readonly brokers: readonly string[]; readonly clientId: string; readonly partitions: number };

export function busConfig(config: MessagingConfig): BusConfig {
  if (config.BUS === 'inprocess') return { kind: 'inprocess' };
  if (!config.KAFKA_BROKERS?.length) throw new ConfigError([{ variable: 'KAFKA_BROKERS', message: 'is required when BUS=kafka' }]);
  return { kind: 'kafka', brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, partitions: config.KAFKA_TOPIC_PARTITIONS };
}
