import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, readConfig } from '@el/platform';
import { describeWithOwnKafka, startKafka, until, type KafkaBroker } from '@el/testing';
import type { IncomingMessage } from '../integration-events.port';
import type { KafkaIntegrationEvents } from '../kafka/kafka-integration-events';
import { busConfig, messagingConfigSpec, type KafkaBusConfig } from './messaging.config';
import { openKafkaBus } from './open-kafka-bus';

/**
 * The services' path to Kafka — variables → busConfig → openKafkaBus, as
 * MessagingModule boots it — against a real broker that authenticates with
 * SCRAM-SHA-512 (users created when its storage is formatted) on a
 * SASL_PLAINTEXT listener and a SASL_SSL listener whose certificate comes
 * from a throwaway CA.
 */
describeWithOwnKafka('Kafka over SASL (SCRAM-SHA-512) and TLS', () => {
  const user = { name: 'ledger', password: `pw-${randomUUID()}` };
  let broker: KafkaBroker;
  let dir: string;
  let passwordFile: string;
  let wrongPasswordFile: string;
  const opened: KafkaIntegrationEvents[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-secured-kafka-'));
    passwordFile = join(dir, 'kafka-password');
    wrongPasswordFile = join(dir, 'wrong-password');
    writeFileSync(passwordFile, `${user.password}\n`, { mode: 0o600 });
    writeFileSync(wrongPasswordFile, 'not-the-password\n', { mode: 0o600 });
    broker = await startKafka({ security: { scramUsers: [user], tls: true }, partitions: 1 });
  }, 120_000);

  afterAll(async () => {
    for (const bus of opened) await bus.close().catch(() => undefined);
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const configOf = (env: Record<string, string>) =>
    busConfig(readConfig(messagingConfigSpec, { BUS: 'kafka', KAFKA_BROKERS: broker.brokers.join(','), KAFKA_CLIENT_ID: 'secured-test', KAFKA_TOPIC_PARTITIONS: '1', ...env })) as KafkaBusConfig;
  const scram = (passwordFileOf: string) => ({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: user.name, KAFKA_SASL_PASSWORD_FILE: passwordFileOf });
  const overTls = () => ({ KAFKA_BROKERS: broker.tls!.brokers.join(','), KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: broker.tls!.caFile });
  const quiet = () => undefined;

  async function open(config: KafkaBusConfig, topic: string): Promise<KafkaIntegrationEvents> {
    const bus = await openKafkaBus(config, { topics: [topic], log: quiet });
    opened.push(bus);
    return bus;
  }

  /** What the boot says when it fails, and how long it took to say it. */
  async function refusal(config: KafkaBusConfig): Promise<{ problems: readonly { variable: string; message: string }[]; ms: number }> {
    const started = Date.now();
    const outcome = await openKafkaBus(config, { topics: [`refused-${randomUUID()}`], log: quiet }).then(
      (bus) => (opened.push(bus), null),
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(ConfigError);
    return { problems: (outcome as ConfigError).problems, ms: Date.now() - started };
  }

  async function roundTrip(bus: KafkaIntegrationEvents, topic: string): Promise<IncomingMessage> {
    const got: IncomingMessage[] = [];
    const consumer = await bus.consume(topic, `g-${randomUUID()}`, async (m) => void got.push(m));
    const id = randomUUID();
    await bus.publish(topic, [{ key: 'acme', id, value: { hello: 'secured' } }]);
    const message = await until('the message back', () => got.find((m) => m.id === id));
    await consumer.stop();
    return message;
  }

  it('publishes and consumes on the SASL_PLAINTEXT listener with the user and the password from a secret file', async () => {
    const topic = `secured-${randomUUID()}`;
    const bus = await open(configOf(scram(passwordFile)), topic);
    const message = await roundTrip(bus, topic);
    expect({ key: message.key, value: JSON.parse(message.value!.toString('utf8')) }).toEqual({ key: 'acme', value: { hello: 'secured' } });
  });

  it('publishes and consumes on the SASL_SSL listener, trusting the CA in KAFKA_TLS_CA_FILE', async () => {
    const topic = `secured-tls-${randomUUID()}`;
    const bus = await open(configOf({ ...scram(passwordFile), ...overTls() }), topic);
    expect((await roundTrip(bus, topic)).key).toBe('acme');
  });

  it('a wrong password stops the boot within seconds, naming the user and the password variable, never the password', async () => {
    const { problems, ms } = await refusal(configOf(scram(wrongPasswordFile)));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe('KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE');
    expect(problems[0]!.message).toMatch(/^Kafka at 127\.0\.0\.1:\d+ refused user "ledger" \(scram-sha-512\): .*invalid credentials/);
    expect(JSON.stringify(problems)).not.toContain('not-the-password');
    expect(ms).toBeLessThan(15_000);
  });

  it('the same over TLS', async () => {
    const { problems, ms } = await refusal(configOf({ ...scram(wrongPasswordFile), ...overTls() }));
    expect(problems.map((p) => p.variable)).toEqual(['KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE']);
    expect(ms).toBeLessThan(15_000);
  });

  it('a mechanism the broker does not offer is named', async () => {
    const { problems, ms } = await refusal(configOf({ ...scram(passwordFile), KAFKA_SASL_MECHANISM: 'scram-sha-256' }));
    expect(problems).toEqual([{ variable: 'KAFKA_SASL_MECHANISM', message: expect.stringMatching(/does not accept scram-sha-256/) }]);
    expect(ms).toBeLessThan(15_000);
  });

  it('a client without credentials is refused promptly, with a hint at SASL', async () => {
    const { problems, ms } = await refusal(configOf({}));
    expect(problems).toEqual([{ variable: 'KAFKA_BROKERS', message: expect.stringMatching(/listener that requires SASL/) }]);
    expect(ms).toBeLessThan(15_000);
  });

  it('a broker certificate from a CA the client does not trust names KAFKA_TLS_CA_FILE, at once', async () => {
    const { problems, ms } = await refusal(configOf({ ...scram(passwordFile), ...overTls(), KAFKA_TLS_CA_FILE: broker.tls!.strangerCaFile }));
    expect(problems).toEqual([{ variable: 'KAFKA_TLS_CA_FILE', message: expect.stringMatching(/^the certificate of 127\.0\.0\.1:\d+ is not trusted \(.+\): KAFKA_TLS_CA_FILE must hold the CA/) }]);
    expect(ms).toBeLessThan(5_000);
  });

  it('TLS to a listener that does not speak it names KAFKA_TLS', async () => {
    const { problems } = await refusal(configOf({ ...scram(passwordFile), KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: broker.tls!.caFile }));
    expect(problems).toEqual([{ variable: 'KAFKA_TLS', message: expect.stringMatching(/does not answer TLS/) }]);
  });
});
