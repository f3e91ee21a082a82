import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, readConfig } from '@el/platform';
import { makeTestCertificates, type TestCertificates, configProblemsOf } from '@el/testing';
import { describeReadDb, explainReadDbFailure, pgSslOptions, type ReadDbConfig } from './data-source';
import { readDbConfig, readModelsConfigSpec } from './read-models.config';

type PostgresDb = Extract<ReadDbConfig, { kind: 'postgres' }>;

const problemsOf = configProblemsOf;

describe('read database configuration: TLS and the password', () => {
  let dir: string;
  let certs: TestCertificates;
  let passwordFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'el-readdb-config-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    passwordFile = join(dir, 'pg-password');
    writeFileSync(passwordFile, 's3cret-from-file\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const pg = (env: Record<string, string>) => readDbConfig(readConfig(readModelsConfigSpec, { READ_DB: 'postgres', READ_DB_URL: 'postgres://ledger@db.internal:5432/ledger', ...env }), dir) as PostgresDb;

  it('defaults to no TLS, and says so', () => {
    const db = pg({});
    expect(db.tls).toBeUndefined();
    expect(pgSslOptions(db.tls)).toBe(false);
    expect(describeReadDb(db)).toBe('postgres:postgres://ledger@db.internal:5432/ledger (no tls)');
  });

  it('maps each mode to node-postgres ssl options with libpq\'s meaning', () => {
    const ca = readFileSync(certs.caFile, 'utf8');
    expect(pgSslOptions(pg({ READ_DB_SSL_MODE: 'require' }).tls)).toEqual({ rejectUnauthorized: false });
    expect(pgSslOptions(pg({ READ_DB_SSL_MODE: 'verify-full' }).tls)).toEqual({ rejectUnauthorized: true });
    expect(pgSslOptions(pg({ READ_DB_SSL_MODE: 'verify-full', READ_DB_SSL_CA_FILE: certs.caFile }).tls)).toEqual({ rejectUnauthorized: true, ca });
    const verifyCa = pgSslOptions(pg({ READ_DB_SSL_MODE: 'verify-ca', READ_DB_SSL_CA_FILE: certs.caFile }).tls);
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca });
    // verify-ca trusts any host name the CA's certificate carries.
    expect(verifyCa && verifyCa.checkServerIdentity?.()).toBeUndefined();
    expect(describeReadDb(pg({ READ_DB_SSL_MODE: 'verify-ca', READ_DB_SSL_CA_FILE: certs.caFile }))).toBe('postgres:postgres://ledger@db.internal:5432/ledger (tls verify-ca)');
  });

  it('takes the password from a secret file, kept out of the URL and out of anything printed', () => {
    const db = pg({ READ_DB_PASSWORD_FILE: passwordFile, READ_DB_SSL_MODE: 'verify-full' });
    expect(db.password).toMatchObject({ variable: 'READ_DB_PASSWORD_FILE' });
    expect(db.password!.value.reveal()).toBe('s3cret-from-file');
    expect(db.url).toBe('postgres://ledger@db.internal:5432/ledger');
    expect(JSON.stringify(db)).not.toContain('s3cret');
    expect(describeReadDb(db)).not.toContain('s3cret');
  });

  it('a password in the URL is never shown', () => {
    expect(describeReadDb(pg({ READ_DB_URL: 'postgres://ledger:hunter2@db/ledger' }))).toBe('postgres:postgres://ledger:***@db/ledger (no tls)');
  });

  it.each<[string, Record<string, string>, { variable: string; message: string | RegExp }[]]>([
    ['sslmode in the URL (it would override the mode inside the driver)', { READ_DB_URL: 'postgres://ledger@db/ledger?sslmode=require&sslrootcert=/ca.pem' }, [
      { variable: 'READ_DB_URL', message: 'carries sslmode, sslrootcert: configure TLS with READ_DB_SSL_MODE and READ_DB_SSL_CA_FILE instead' },
    ]],
    ['a password in the URL and in a secret', { READ_DB_URL: 'postgres://ledger:x@db/ledger', READ_DB_PASSWORD: 'y' }, [
      { variable: 'READ_DB_URL', message: 'holds a password and READ_DB_PASSWORD is set: keep the password in one place (the secret)' },
    ]],
    ['a CA file with a mode that does not verify', { READ_DB_SSL_MODE: 'require', READ_DB_SSL_CA_FILE: '/ca.pem' }, [
      { variable: 'READ_DB_SSL_CA_FILE', message: 'is only used to verify the server: set READ_DB_SSL_MODE=verify-full (or verify-ca), not require' },
    ]],
    ['a CA file that cannot be read, and a password file that cannot either', { READ_DB_SSL_MODE: 'verify-full', READ_DB_SSL_CA_FILE: '/etc/nope/ca.pem', READ_DB_PASSWORD_FILE: '/run/secrets/nope' }, [
      { variable: 'READ_DB_PASSWORD_FILE', message: 'cannot read /run/secrets/nope (ENOENT)' },
      { variable: 'READ_DB_SSL_CA_FILE', message: 'cannot read /etc/nope/ca.pem (ENOENT)' },
    ]],
  ])('%s: named', (_name, env, expected) => {
    const problems = problemsOf(() => pg(env));
    expect(problems.map((p) => p.variable)).toEqual(expected.map((e) => e.variable));
    expected.forEach((e, i) => (typeof e.message === 'string' ? expect(problems[i]!.message).toBe(e.message) : expect(problems[i]!.message).toMatch(e.message)));
  });

  it('an unknown mode is refused when the variables are read, and a bad URL is echoed without its password', () => {
    expect(problemsOf(() => readConfig(readModelsConfigSpec, { READ_DB_SSL_MODE: 'prefer', READ_DB_URL: 'mysql://ledger:hunter2@db/x' }))).toEqual([
      { variable: 'READ_DB_URL', message: 'must be a postgres or postgresql URL (got "mysql://ledger:***@db/x")' },
      { variable: 'READ_DB_SSL_MODE', message: 'must be one of disable, require, verify-ca, verify-full (got "prefer")' },
    ]);
  });

  it('a connection failure is explained without the password', () => {
    const db = pg({ READ_DB_PASSWORD_FILE: passwordFile });
    const refused = explainReadDbFailure(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432 (s3cret-from-file)'), { code: 'ECONNREFUSED' }), db) as ConfigError;
    expect(refused.problems).toEqual([{ variable: 'READ_DB_URL', message: 'cannot use PostgreSQL at db.internal:5432: connect ECONNREFUSED 10.0.0.1:5432 (***)' }]);
  });
});
