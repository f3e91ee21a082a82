import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { ConfigError, redactCredentials, withoutSecrets } from '@el/platform';
import { KafkaIntegrationEvents, PLAINTEXT, tlsConnectionOptions, type KafkaOptions } from '../kafka/kafka-integration-events';
import type { KafkaBusConfig } from './messaging.config';

export interface OpenKafkaBusOptions {
  /** Topics created at start when missing (the first calls that need the brokers, and the check that they can be used). */
  readonly topics: readonly string[];
  readonly log?: KafkaOptions['log'];
  /** How long the TLS handshake with a broker may take before that broker counts as unreachable; default 5 s. */
  readonly tlsProbeTimeoutMs?: number;
}

/**
 * The Kafka adapter of a service, checked before the service goes on: it
 * connects, authenticates and creates the topics, and otherwise stops the
 * boot with a ConfigError naming the variable to fix — a refused password
 * names KAFKA_SASL_USERNAME and the password's variable, an untrusted broker
 * certificate KAFKA_TLS_CA_FILE. Credentials never appear in the message.
 *
 * A broker whose certificate cannot be trusted is found by one TLS handshake
 * first: kafkajs would count that as a connection error and retry it for
 * minutes, though no retry can fix it.
 */
export async function openKafkaBus(config: KafkaBusConfig, options: OpenKafkaBusOptions): Promise<KafkaIntegrationEvents> {
  const security = config.security ?? PLAINTEXT;
  if (security.tls) await probeTls(config, tlsConnectionOptions(security.tls), options.tlsProbeTimeoutMs ?? 5_000);
  const bus = new KafkaIntegrationEvents({
    brokers: config.brokers,
    clientId: config.clientId,
    partitions: config.partitions,
    ...(config.topicPrefix ? { topicPrefix: config.topicPrefix } : {}),
    security,
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    await bus.ensureTopics(options.topics);
  } catch (err) {
    await bus.close().catch(() => undefined);
    throw explainKafkaFailure(err, config);
  }
  return bus;
}

/** The error kafkajs gave up with, as a ConfigError naming what to fix. */
export function explainKafkaFailure(err: unknown, config: KafkaBusConfig): ConfigError {
  const e = innermost(err);
  const { sasl, tls } = config.security ?? PLAINTEXT;
  const message = withoutSecrets(redactCredentials(e.message), [sasl?.password, tls?.key]);
  const at = config.brokers.join(',');
  if (e.name === 'KafkaJSSASLAuthenticationError' && sasl) {
    return new ConfigError([{ variable: `KAFKA_SASL_USERNAME, ${config.passwordVariable ?? 'KAFKA_SASL_PASSWORD_FILE'}`, message: `Kafka at ${at} refused user "${sasl.username}" (${sasl.mechanism}): ${message}` }]);
  }
  if (e.type === 'UNSUPPORTED_SASL_MECHANISM' || /does not support the requested SASL mechanism/i.test(e.message)) {
    return new ConfigError([{ variable: 'KAFKA_SASL_MECHANISM', message: `Kafka at ${at} does not accept ${sasl?.mechanism ?? 'this mechanism'}: ${message}` }]);
  }
  if (/AUTHORIZATION_FAILED/.test(e.type ?? '') && sasl) {
    return new ConfigError([{ variable: 'KAFKA_SASL_USERNAME', message: `user "${sasl.username}" is not allowed to do what the service needs at start (list and create its topics): ${message}` }]);
  }
  const hint = !sasl && e.name === 'KafkaJSConnectionClosedError' ? ' (a listener that requires SASL closes the connection of a client without it: see KAFKA_SASL_MECHANISM, KAFKA_TLS)' : '';
  return new ConfigError([{ variable: 'KAFKA_BROKERS', message: `cannot use Kafka at ${at}: ${message}${hint}` }]);
}

function innermost(err: unknown): { name: string; message: string; type?: string } {
  let e = err as { name?: string; message?: string; type?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; depth < 5 && e; depth++) {
    const next = (e.cause ?? e.originalError) as typeof e;
    if (!next || typeof next !== 'object') break;
    e = next;
  }
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), ...(e?.type ? { type: e.type } : {}) };
}

type Handshake = { readonly kind: 'ok' } | { readonly kind: 'unreachable'; readonly reason: string } | { readonly kind: 'refused'; readonly problem: ConfigError };

/** One TLS handshake per broker until one completes; a certificate problem ends the boot, an unreachable broker is left to kafkajs's retries. */
async function probeTls(config: KafkaBusConfig, options: ConnectionOptions, timeoutMs: number): Promise<void> {
  for (const broker of config.brokers) {
    const outcome = await handshake(broker, options, timeoutMs);
    if (outcome.kind === 'ok') return;
    if (outcome.kind === 'refused') throw outcome.problem;
  }
}

function handshake(broker: string, options: ConnectionOptions, timeoutMs: number): Promise<Handshake> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve) => {
    // The same options kafkajs connects with (it names the host for SNI unless it is an IP address).
    const socket = tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...options });
    const done = (result: Handshake) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ kind: 'unreachable', reason: `no TLS handshake within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => done({ kind: 'ok' }));
    socket.once('error', (err: NodeJS.ErrnoException) => done(classify(broker, err)));
  });
}

function classify(broker: string, err: NodeJS.ErrnoException): Handshake {
  const code = err.code ?? '';
  const problem = (variable: string, message: string): Handshake => ({ kind: 'refused', problem: new ConfigError([{ variable, message }]) });
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) return { kind: 'unreachable', reason: err.message };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return problem('KAFKA_BROKERS', `the certificate of ${broker} is not for that host (${err.message}); list the brokers by a name their certificates carry`);
  if (/CERT|SELF_SIGNED|UNABLE_TO_|SIGNATURE|ISSUER/.test(code) && !/ALERT/.test(code)) {
    return problem('KAFKA_TLS_CA_FILE', `the certificate of ${broker} is not trusted (${err.message}): KAFKA_TLS_CA_FILE must hold the CA that issued it (the system CAs are used when it is unset)`);
  }
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE)/.test(code)) {
    return problem('KAFKA_TLS_CERT_FILE', `${broker} refused the TLS handshake (${err.message}): it may require a client certificate it trusts (KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE)`);
  }
  if (code === 'ECONNRESET' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /before secure TLS connection/.test(err.message)) {
    return problem('KAFKA_TLS', `${broker} does not answer TLS (${err.message}): is it an SSL or SASL_SSL listener? (KAFKA_TLS=true connects over TLS)`);
  }
  return { kind: 'unreachable', reason: err.message };
}
