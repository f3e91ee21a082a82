import { hostname } from 'node:os';
import { ConfigError, ConfigProblems, env, readCertificateFile, readPrivateKeyFile, secretFrom, secretVariables, type ConfigOf, type ResolvedSecret } from '@el/platform';
import { PLAINTEXT, type KafkaSecurity, type SaslMechanism } from '../kafka/kafka-integration-events';

export const messagingConfigSpec = {
  BUS: env.oneOf(['inprocess', 'kafka'] as const, { default: 'inprocess', description: 'How services hear of entitlement changes: inprocess (embedded: read from the event store) or kafka' }),
  KAFKA_BROKERS: env.list({ description: 'Kafka bootstrap servers, comma-separated (required when BUS=kafka), e.g. localhost:9092' }),
  KAFKA_CLIENT_ID: env.string({ default: 'entitlement-ledger', description: 'Kafka client id (shows in broker logs and quotas)' }),
  KAFKA_INSTANCE_ID: env.string({ description: 'This process among its replicas (default: the host name): with KAFKA_CLIENT_ID and the service it names the process\'s Kafka client, so a process restarted after a crash (SIGKILL) removes its dead predecessor from its consumer groups and is ready in seconds, not after the 30 s session timeout. Give replicas on one host distinct ones' }),
  KAFKA_TOPIC_PREFIX: env.string({ default: '', description: 'Put before the name of every topic this installation uses (e.g. `staging.`): installations sharing a Kafka cluster each keep to their own topics, so none reads another\'s changes or positions. Every service of an installation needs the same one' }),
  LEDGER_INSTALLATION_ID: env.string({ description: 'For a service without the event store (enforcement): the installation whose messages its view reads, as the ledger\'s /health shows it (default: the first one it reads; messages of another installation are skipped and reported on /health). Processes with the event store know their own' }),
  KAFKA_TOPIC_PARTITIONS: env.int({ default: 6, min: 1, max: 10_000, description: 'Partitions of the topics the services create at start' }),
  KAFKA_SASL_MECHANISM: env.oneOf(['none', 'scram-sha-512', 'scram-sha-256', 'plain'] as const, { default: 'none', description: 'SASL authentication with the brokers: none, scram-sha-512, scram-sha-256, or plain (only with KAFKA_TLS=true)' }),
  KAFKA_SASL_USERNAME: env.string({ description: 'SASL user name (required with a SASL mechanism)' }),
  ...secretVariables('KAFKA_SASL_PASSWORD', { description: 'SASL password (required with a SASL mechanism)' }),
  KAFKA_TLS: env.bool({ default: false, description: 'Connect to the brokers over TLS (SSL or SASL_SSL listeners)' }),
  KAFKA_TLS_CA_FILE: env.string({ description: 'PEM file of the CA certificates that issued the brokers\' certificates (default: the system CAs)' }),
  KAFKA_TLS_CERT_FILE: env.string({ description: 'PEM client certificate, for brokers that require mutual TLS (with KAFKA_TLS_KEY_FILE)' }),
  KAFKA_TLS_KEY_FILE: env.string({ description: 'PEM private key (unencrypted) of KAFKA_TLS_CERT_FILE' }),
  KAFKA_TLS_REJECT_UNAUTHORIZED: env.bool({ default: true, description: 'Verify the brokers\' certificates and host names (false only for a test broker)' }),
  RELAY_SUBSCRIPTION_ID: env.string({ default: 'kafka-relay', description: 'Stable id of the relay\'s subscription to the event store (its checkpoint)' }),
  AUDIT_TOPIC: env.string({ default: 'ledger.audit.v1', description: 'The audit feed: every stored event in the log\'s order (one partition), published by the relay and read by the audit service; an installation sharing a Kafka cluster with another (or a test) uses its own' }),
  RELAY_BATCH_SIZE: env.int({ default: 1000, min: 1, max: 10_000, description: 'Most events the relay publishes per batch (one producer request, then one checkpoint)' }),
  ERP_ORDERS_CONCURRENCY: env.int({ default: 32, min: 1, max: 1000, description: 'ERP order messages of one partition applied at once (orders with the same key always in order)' }),
  ERP_ORDERS_GROUP: env.string({ default: 'ledger-erp-orders', description: 'Consumer group of the ledger\'s ERP order consumer (erp.orders.v1)' }),
};
export type MessagingConfig = ConfigOf<typeof messagingConfigSpec>;

export interface KafkaBusConfig {
  readonly kind: 'kafka';
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly partitions: number;
  /** LEDGER_INSTALLATION_ID, when set. */
  readonly installationId?: string;
  /** KAFKA_TOPIC_PREFIX, when set. */
  readonly topicPrefix?: string;
  /** SASL and TLS; plaintext when absent. */
  readonly security?: KafkaSecurity;
  /** Which variable held the SASL password (KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE), for the message when the brokers refuse it. */
  readonly passwordVariable?: string;
}

export type BusConfig = { readonly kind: 'inprocess' } | KafkaBusConfig;

/**
 * Resolves the bus, reading the secret and certificate files the variables
 * name. Every problem is reported at once, each naming its variable; a setting
 * that would be silently ignored (a CA file without KAFKA_TLS, a user name
 * without a mechanism) is a problem too, so a connection is never less secure
 * than its configuration reads.
 */
export function busConfig(config: MessagingConfig, service = 'service'): BusConfig {
  if (config.BUS === 'inprocess') return { kind: 'inprocess' };
  const problems = new ConfigProblems();
  if (!config.KAFKA_BROKERS?.length) problems.add('KAFKA_BROKERS', 'is required when BUS=kafka');
  // Kafka's legal topic characters; the longest topic name it takes is 249, and ours are up to ~40.
  if (config.LEDGER_INSTALLATION_ID && config.LEDGER_INSTALLATION_ID.length > 100) problems.add('LEDGER_INSTALLATION_ID', 'is at most 100 characters (an event id)');
  if (!/^[A-Za-z0-9._-]{0,200}$/.test(config.KAFKA_TOPIC_PREFIX)) problems.add('KAFKA_TOPIC_PREFIX', 'may hold only letters, digits, ".", "_" and "-" (at most 200)');
  const sasl = problems.check(() => saslOf(config));
  const tls = problems.check(() => tlsOf(config));
  problems.throwIfAny();
  return {
    kind: 'kafka',
    brokers: config.KAFKA_BROKERS!,
    clientId: kafkaClientId(config, service),
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    ...(config.KAFKA_TOPIC_PREFIX ? { topicPrefix: config.KAFKA_TOPIC_PREFIX } : {}),
    ...(config.LEDGER_INSTALLATION_ID ? { installationId: config.LEDGER_INSTALLATION_ID } : {}),
    security: { sasl: sasl ? { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password.value } : null, tls: tls ?? null },
    ...(sasl ? { passwordVariable: sasl.password.variable } : {}),
  };
}

/**
 * `<KAFKA_CLIENT_ID>.<service>.<instance>`: one process's client id, the same
 * across its restarts and distinct from its replicas' (broker logs show which
 * process did what; quotas are best set per user or by client id prefix).
 */
export function kafkaClientId(config: Pick<MessagingConfig, 'KAFKA_CLIENT_ID' | 'KAFKA_INSTANCE_ID'>, service: string): string {
  const instance = (config.KAFKA_INSTANCE_ID || hostname()).replace(/[^A-Za-z0-9._-]/g, '_');
  return `${config.KAFKA_CLIENT_ID}.${service}.${instance}`;
}

function saslOf(config: MessagingConfig): { mechanism: SaslMechanism; username: string; password: ResolvedSecret } | null {
  const problems = new ConfigProblems();
  const mechanism = config.KAFKA_SASL_MECHANISM;
  const passwordVariables = (['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const).filter((v) => config[v]);
  if (mechanism === 'none') {
    const stray = [...(config.KAFKA_SASL_USERNAME ? ['KAFKA_SASL_USERNAME'] : []), ...passwordVariables];
    for (const variable of stray) problems.add(variable, 'is set but KAFKA_SASL_MECHANISM is none (set it to the brokers\' mechanism, e.g. scram-sha-512)');
    problems.throwIfAny();
    return null;
  }
  if (!config.KAFKA_SASL_USERNAME) problems.add('KAFKA_SASL_USERNAME', `is required when KAFKA_SASL_MECHANISM=${mechanism}`);
  const password = problems.check(() => secretFrom(config, 'KAFKA_SASL_PASSWORD'));
  if (passwordVariables.length === 0) problems.add('KAFKA_SASL_PASSWORD_FILE', `(or KAFKA_SASL_PASSWORD) is required when KAFKA_SASL_MECHANISM=${mechanism}`);
  if (mechanism === 'plain' && !config.KAFKA_TLS) problems.add('KAFKA_SASL_MECHANISM', 'plain sends the password in clear text: use it only with KAFKA_TLS=true (or use scram-sha-512)');
  problems.throwIfAny();
  return { mechanism, username: config.KAFKA_SASL_USERNAME!, password: password! };
}

function tlsOf(config: MessagingConfig): KafkaSecurity['tls'] {
  const files = { KAFKA_TLS_CA_FILE: config.KAFKA_TLS_CA_FILE, KAFKA_TLS_CERT_FILE: config.KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE: config.KAFKA_TLS_KEY_FILE };
  if (!config.KAFKA_TLS) {
    const stray = Object.entries(files).filter(([, v]) => v).map(([k]) => k);
    if (!config.KAFKA_TLS_REJECT_UNAUTHORIZED) stray.push('KAFKA_TLS_REJECT_UNAUTHORIZED');
    if (stray.length > 0) throw new ConfigError(stray.map((variable) => ({ variable, message: 'is set but KAFKA_TLS is false (set KAFKA_TLS=true to connect over TLS)' })));
    return null;
  }
  const problems = new ConfigProblems();
  const ca = files.KAFKA_TLS_CA_FILE ? problems.check(() => readCertificateFile('KAFKA_TLS_CA_FILE', files.KAFKA_TLS_CA_FILE!)) : undefined;
  if (Boolean(files.KAFKA_TLS_CERT_FILE) !== Boolean(files.KAFKA_TLS_KEY_FILE)) {
    const [given, missing] = files.KAFKA_TLS_CERT_FILE ? ['KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE'] : ['KAFKA_TLS_KEY_FILE', 'KAFKA_TLS_CERT_FILE'];
    problems.add(missing, `is required with ${given} (a client certificate and its key go together)`);
  }
  const cert = files.KAFKA_TLS_CERT_FILE ? problems.check(() => readCertificateFile('KAFKA_TLS_CERT_FILE', files.KAFKA_TLS_CERT_FILE!)) : undefined;
  const key = files.KAFKA_TLS_KEY_FILE ? problems.check(() => readPrivateKeyFile('KAFKA_TLS_KEY_FILE', files.KAFKA_TLS_KEY_FILE!)) : undefined;
  problems.throwIfAny();
  return { rejectUnauthorized: config.KAFKA_TLS_REJECT_UNAUTHORIZED, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** For boot lines and /health: the brokers and how the connection is secured, never a credential. */
export function describeKafka(bus: KafkaBusConfig): string {
  const { sasl, tls } = bus.security ?? PLAINTEXT;
  const how = [sasl ? `SASL ${sasl.mechanism.toUpperCase()} as ${sasl.username}` : null, tls ? `TLS${tls.rejectUnauthorized ? '' : ' (certificates not verified)'}` : null].filter(Boolean);
  return `${bus.brokers.join(',')}${how.length > 0 ? ` (${how.join(', ')})` : ' (plaintext)'}`;
}
