import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { readConfig } from '@el/platform';
import { makeTestCertificates, type TestCertificates, configProblemsOf } from '@el/testing';
import { kafkajsSecurity } from '../kafka/kafka-integration-events';
import { busConfig, describeKafka, messagingConfigSpec, type KafkaBusConfig } from './messaging.config';
import { explainKafkaFailure } from './open-kafka-bus';

const kafkaBus = (env: Record<string, string>) => busConfig(readConfig(messagingConfigSpec, { BUS: 'kafka', KAFKA_BROKERS: 'kafka-1:9093,kafka-2:9093', ...env })) as KafkaBusConfig;

const problemsOf = configProblemsOf;

describe('Kafka security configuration → kafkajs options', () => {
  let dir: string;
  let certs: TestCertificates;
  let passwordFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'el-kafka-config-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    passwordFile = join(dir, 'kafka-password');
    writeFileSync(passwordFile, 'pa55-from-a-secret\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without any: plaintext, and kafkajs gets no ssl or sasl', () => {
    const bus = kafkaBus({});
    expect(bus.security).toEqual({ sasl: null, tls: null });
    expect(kafkajsSecurity(bus.security)).toEqual({});
    expect(describeKafka(bus)).toBe('kafka-1:9093,kafka-2:9093 (plaintext)');
  });

  it('SCRAM-SHA-512 with the password from a mounted secret file', () => {
    const bus = kafkaBus({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'ledger', KAFKA_SASL_PASSWORD_FILE: passwordFile });
    expect(kafkajsSecurity(bus.security)).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'ledger', password: 'pa55-from-a-secret' } });
    expect(bus.passwordVariable).toBe('KAFKA_SASL_PASSWORD_FILE');
    expect(describeKafka(bus)).toBe('kafka-1:9093,kafka-2:9093 (SASL SCRAM-SHA-512 as ledger)');
  });

  it('TLS with a CA bundle and a client certificate (mutual TLS), together with SASL', () => {
    const bus = kafkaBus({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: certs.caFile, KAFKA_TLS_CERT_FILE: certs.certFile, KAFKA_TLS_KEY_FILE: certs.keyFile, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'ledger', KAFKA_SASL_PASSWORD: 'direct' });
    expect(kafkajsSecurity(bus.security)).toEqual({
      ssl: { rejectUnauthorized: true, ca: readFileSync(certs.caFile, 'utf8'), cert: readFileSync(certs.certFile, 'utf8'), key: readFileSync(certs.keyFile, 'utf8') },
      sasl: { mechanism: 'plain', username: 'ledger', password: 'direct' },
    });
    expect(describeKafka(bus)).toBe('kafka-1:9093,kafka-2:9093 (SASL PLAIN as ledger, TLS)');
  });

  it('TLS against the system CAs, and without verification only when asked', () => {
    expect(kafkajsSecurity(kafkaBus({ KAFKA_TLS: 'true' }).security)).toEqual({ ssl: { rejectUnauthorized: true } });
    const unverified = kafkaBus({ KAFKA_TLS: 'true', KAFKA_TLS_REJECT_UNAUTHORIZED: 'false' });
    expect(kafkajsSecurity(unverified.security)).toEqual({ ssl: { rejectUnauthorized: false } });
    expect(describeKafka(unverified)).toBe('kafka-1:9093,kafka-2:9093 (TLS (certificates not verified))');
  });

  it('the resolved configuration never prints the password or the key', () => {
    const bus = kafkaBus({ KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: certs.certFile, KAFKA_TLS_KEY_FILE: certs.keyFile, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'ledger', KAFKA_SASL_PASSWORD_FILE: passwordFile });
    const key = readFileSync(certs.keyFile, 'utf8');
    for (const printed of [JSON.stringify(bus), inspect(bus, { depth: 10 }), `${describeKafka(bus)}`]) {
      expect(printed).not.toContain('pa55-from-a-secret');
      expect(printed).not.toContain(key.split('\n')[1]);
    }
  });

  it('the in-process bus ignores the Kafka variables', () => {
    expect(busConfig(readConfig(messagingConfigSpec, { KAFKA_SASL_USERNAME: 'ledger', KAFKA_TLS_CA_FILE: '/nope' }))).toEqual({ kind: 'inprocess' });
  });

  it.each<[string, Record<string, string>, { variable: string; message: string | RegExp }[]]>([
    ['a mechanism without credentials', { KAFKA_SASL_MECHANISM: 'scram-sha-512' }, [
      { variable: 'KAFKA_SASL_USERNAME', message: 'is required when KAFKA_SASL_MECHANISM=scram-sha-512' },
      { variable: 'KAFKA_SASL_PASSWORD_FILE', message: '(or KAFKA_SASL_PASSWORD) is required when KAFKA_SASL_MECHANISM=scram-sha-512' },
    ]],
    ['credentials without a mechanism', { KAFKA_SASL_USERNAME: 'ledger', KAFKA_SASL_PASSWORD: 'x' }, [
      { variable: 'KAFKA_SASL_USERNAME', message: /is set but KAFKA_SASL_MECHANISM is none/ },
      { variable: 'KAFKA_SASL_PASSWORD', message: /is set but KAFKA_SASL_MECHANISM is none/ },
    ]],
    ['plain over plaintext', { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'ledger', KAFKA_SASL_PASSWORD: 'x' }, [
      { variable: 'KAFKA_SASL_MECHANISM', message: /plain sends the password in clear text/ },
    ]],
    ['a password file that is not there', { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'ledger', KAFKA_SASL_PASSWORD_FILE: '/run/secrets/missing' }, [
      { variable: 'KAFKA_SASL_PASSWORD_FILE', message: 'cannot read /run/secrets/missing (ENOENT)' },
    ]],
    ['TLS files without KAFKA_TLS', { KAFKA_TLS_CA_FILE: '/etc/ca.pem', KAFKA_TLS_REJECT_UNAUTHORIZED: 'false' }, [
      { variable: 'KAFKA_TLS_CA_FILE', message: /is set but KAFKA_TLS is false/ },
      { variable: 'KAFKA_TLS_REJECT_UNAUTHORIZED', message: /is set but KAFKA_TLS is false/ },
    ]],
    ['a CA file that cannot be read', { KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/etc/nope/ca.pem' }, [
      { variable: 'KAFKA_TLS_CA_FILE', message: 'cannot read /etc/nope/ca.pem (ENOENT)' },
    ]],
    ['no brokers, and a password given twice', { KAFKA_BROKERS: '', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'x', KAFKA_SASL_PASSWORD_FILE: '/x' }, [
      { variable: 'KAFKA_BROKERS', message: 'is required when BUS=kafka' },
      { variable: 'KAFKA_SASL_PASSWORD_FILE', message: 'cannot be used together with KAFKA_SASL_PASSWORD; set one of them' },
    ]],
  ])('%s: every problem, each naming its variable', (_name, env, expected) => {
    const problems = problemsOf(() => kafkaBus(env));
    expect(problems).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expect(problems[i]!.variable).toBe(e.variable);
      if (typeof e.message === 'string') expect(problems[i]!.message).toBe(e.message);
      else expect(problems[i]!.message).toMatch(e.message);
    });
  });

  it('names the variable for a certificate that is not a certificate, and a client certificate without its key', () => {
    expect(problemsOf(() => kafkaBus({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: passwordFile, KAFKA_TLS_CERT_FILE: certs.certFile }))).toEqual([
      { variable: 'KAFKA_TLS_CA_FILE', message: `${passwordFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` },
      { variable: 'KAFKA_TLS_KEY_FILE', message: 'is required with KAFKA_TLS_CERT_FILE (a client certificate and its key go together)' },
    ]);
  });

  it('an unknown mechanism is refused when the variables are read', () => {
    expect(problemsOf(() => readConfig(messagingConfigSpec, { KAFKA_SASL_MECHANISM: 'gssapi' }))).toEqual([{ variable: 'KAFKA_SASL_MECHANISM', message: 'must be one of none, scram-sha-512, scram-sha-256, plain (got "gssapi")' }]);
  });

  it('a failure message from the client is cleaned of the password before it is shown', () => {
    const bus = kafkaBus({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'ledger', KAFKA_SASL_PASSWORD_FILE: passwordFile });
    const echoed = Object.assign(new Error('Connection error: something echoed pa55-from-a-secret'), { name: 'KafkaJSConnectionError' });
    const err = explainKafkaFailure(echoed, bus);
    expect(err.problems).toEqual([{ variable: 'KAFKA_BROKERS', message: 'cannot use Kafka at kafka-1:9093,kafka-2:9093: Connection error: something echoed ***' }]);
  });
});
