import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The client's own parser: the connection string built here must mean to the client what the variables say.
import { parseConnectionString } from '@eventstore/db-client/dist/Client/parseConnectionString';
import { EventStoreDBClient } from '@eventstore/db-client';
import { readConfig } from '@el/platform';
import { makeTestCertificates, type TestCertificates, configProblemsOf } from '@el/testing';
import { describeEventStore, esdbConnectionString, eventStoreConfigSpec } from './event-store.module';

const problemsOf = configProblemsOf;

// EventStoreDB cannot run on every machine (no package without Docker), so TLS is tested at the
// configuration: what the client is handed, read back with the client's own parser.
describe('EventStoreDB connection: TLS and credentials', () => {
  let dir: string;
  let certs: TestCertificates;
  let passwordFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'el-esdb-config-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    passwordFile = join(dir, 'esdb-password');
    writeFileSync(passwordFile, 'ch@nge:it/&?\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const config = (env: Record<string, string>) => readConfig(eventStoreConfigSpec, { EVENT_STORE: 'esdb', ...env });
  const connection = (env: Record<string, string>) => esdbConnectionString(config(env));

  it('an insecure dev server: the URL as it is', () => {
    expect(connection({ ESDB_URL: 'esdb://localhost:2113?tls=false' })).toBe('esdb://localhost:2113?tls=false');
  });

  it('TLS with the CA file and the password from a secret, across a cluster', () => {
    const cs = connection({ ESDB_URL: 'esdb://ledger@es1:2113,es2:2113,es3:2113?tls=true&nodePreference=leader', ESDB_TLS_CA_FILE: certs.caFile, ESDB_PASSWORD_FILE: passwordFile });
    expect(parseConnectionString(cs)).toMatchObject({
      hosts: [{ address: 'es1', port: 2113 }, { address: 'es2', port: 2113 }, { address: 'es3', port: 2113 }],
      tls: true,
      nodePreference: 'leader',
      tlsCAFile: certs.caFile,
      defaultCredentials: { username: 'ledger', password: 'ch@nge:it/&?' },
    });
    // The client accepts it (it reads the CA file when built; it connects lazily).
    expect(EventStoreDBClient.connectionString(cs)).toBeInstanceOf(EventStoreDBClient);
  });

  it('TLS by default (the client\'s default, when the URL does not say) against the system CAs', () => {
    expect(parseConnectionString(connection({ ESDB_URL: 'esdb+discover://admin:changeit@cluster.internal:2113' }))).toMatchObject({ dnsDiscover: true, defaultCredentials: { username: 'admin', password: 'changeit' } });
  });

  it('never shows the password in what it prints', () => {
    expect(describeEventStore(config({ ESDB_URL: 'esdb://admin:changeit@es1:2113,es2:2113?tls=true' }))).toBe('esdb esdb://admin:***@es1:2113,es2:2113?tls=true');
    expect(problemsOf(() => connection({ ESDB_URL: 'http://admin:changeit@localhost:2113' }))).toEqual([{ variable: 'ESDB_URL', message: 'must be an EventStoreDB connection string like esdb://host:2113?tls=false (got "http://admin:***@localhost:2113")' }]);
  });

  it.each<[string, Record<string, string>, { variable: string; message: string | RegExp }[]]>([
    ['no URL', { ESDB_URL: '' }, [{ variable: 'ESDB_URL', message: 'is required when EVENT_STORE=esdb (e.g. esdb://localhost:2113?tls=false)' }]],
    ['a CA file without TLS', { ESDB_URL: 'esdb://localhost:2113?tls=false', ESDB_TLS_CA_FILE: '/ca.pem' }, [{ variable: 'ESDB_TLS_CA_FILE', message: 'is set but ESDB_URL has tls=false' }]],
    ['a CA given twice', { ESDB_URL: 'esdb://localhost:2113?tls=true&tls_ca_file=/a.pem', ESDB_TLS_CA_FILE: '/ca.pem' }, [{ variable: 'ESDB_TLS_CA_FILE', message: 'is set and ESDB_URL has tlsCAFile too: give the CA in one place' }]],
    ['a CA file that cannot be read', { ESDB_URL: 'esdb://localhost:2113', ESDB_TLS_CA_FILE: '/etc/nope/ca.pem' }, [{ variable: 'ESDB_TLS_CA_FILE', message: 'cannot read /etc/nope/ca.pem (ENOENT)' }]],
    ['tlsVerifyCert=false, which the client ignores', { ESDB_URL: 'esdb://localhost:2113?tlsVerifyCert=false' }, [{ variable: 'ESDB_URL', message: /tlsVerifyCert=false has no effect .* ESDB_TLS_CA_FILE/ }]],
    ['tls neither true nor false', { ESDB_URL: 'esdb://localhost:2113?tls=yes' }, [{ variable: 'ESDB_URL', message: 'tls must be true or false (got "yes")' }]],
    ['credentials in clear text', { ESDB_URL: 'esdb://admin:changeit@localhost:2113?tls=false' }, [{ variable: 'ESDB_URL', message: /sends credentials with tls=false/ }]],
    ['a user without a password', { ESDB_URL: 'esdb://ledger@localhost:2113?tls=true' }, [{ variable: 'ESDB_PASSWORD_FILE', message: '(or ESDB_PASSWORD) is required: ESDB_URL names user "ledger" without a password' }]],
    ['a password in the URL and in a secret', { ESDB_URL: 'esdb://ledger:x@localhost:2113', ESDB_PASSWORD: 'y' }, [{ variable: 'ESDB_URL', message: 'holds a password and ESDB_PASSWORD is set: keep the password in one place (the secret)' }]],
    ['a password without a user', { ESDB_URL: 'esdb://localhost:2113', ESDB_PASSWORD: 'y' }, [{ variable: 'ESDB_URL', message: 'names no user for the password in ESDB_PASSWORD (esdb://USER@host:2113?tls=true)' }]],
  ])('%s: named', (_name, env, expected) => {
    const problems = problemsOf(() => connection(env));
    expect(problems.map((p) => p.variable)).toEqual(expected.map((e) => e.variable));
    expected.forEach((e, i) => (typeof e.message === 'string' ? expect(problems[i]!.message).toBe(e.message) : expect(problems[i]!.message).toMatch(e.message)));
  });
});
