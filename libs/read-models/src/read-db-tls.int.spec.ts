import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ConfigError, readConfig } from '@el/platform';
import { describeWithOwnPostgres, makeTestCertificates, startPostgres, type PostgresServer, type TestCertificates } from '@el/testing';
import { openReadModels } from './data-source';
import { readDbConfig, readModelsConfigSpec } from './read-models.config';

/**
 * The read models on a PostgreSQL server that accepts TCP connections only
 * over TLS and only with the password (hostssl … scram-sha-256), its
 * certificate issued by a throwaway CA: the variables → readDbConfig →
 * openReadModels, as the services boot.
 */
describeWithOwnPostgres('read models over TLS with the password from a secret file', () => {
  const password = `pg-${randomUUID()}`;
  let dir: string;
  let certs: TestCertificates;
  let server: PostgresServer;
  let passwordFile: string;
  let wrongPasswordFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-pg-tls-'));
    certs = makeTestCertificates(join(dir, 'tls'), ['localhost']); // not for 127.0.0.1: see the host name test
    passwordFile = join(dir, 'password');
    wrongPasswordFile = join(dir, 'wrong-password');
    writeFileSync(passwordFile, `${password}\n`);
    writeFileSync(wrongPasswordFile, 'not-the-password\n');
    server = await startPostgres({ tls: { certFile: certs.certFile, keyFile: certs.keyFile }, password });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // The server's URL names the user and no password; `localhost` is a name the certificate carries.
  const url = () => server.url.replace('127.0.0.1', 'localhost');
  const configOf = (env: Record<string, string>) => readDbConfig(readConfig(readModelsConfigSpec, { READ_DB: 'postgres', READ_DB_URL: url(), READ_DB_PASSWORD_FILE: passwordFile, ...env }), dir);

  async function withReadModels(env: Record<string, string>, fn: (ds: DataSource) => Promise<void>): Promise<void> {
    const ds = await openReadModels(configOf(env));
    try {
      await fn(ds);
    } finally {
      await ds.destroy();
    }
  }

  async function failure(env: Record<string, string>): Promise<{ variable: string; message: string }[]> {
    const outcome = await openReadModels(configOf(env)).then(
      async (ds) => (await ds.destroy(), null),
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(ConfigError);
    return [...(outcome as ConfigError).problems];
  }

  it('verify-full with the CA: connects over TLS and migrates', async () => {
    await withReadModels({ READ_DB_SSL_MODE: 'verify-full', READ_DB_SSL_CA_FILE: certs.caFile }, async (ds) => {
      const [row] = (await ds.query('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')) as { ssl: boolean; version: string }[];
      expect(row).toMatchObject({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) });
      expect(await ds.query('SELECT count(*)::int AS n FROM rm_migrations')).toEqual([{ n: expect.any(Number) }]);
    });
  });

  it('require: encrypted without verifying the server', async () => {
    await withReadModels({ READ_DB_SSL_MODE: 'require' }, async (ds) => {
      expect(await ds.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).toEqual([{ ssl: true }]);
    });
  });

  it('verify-full refuses a certificate from a CA it was not given, naming READ_DB_SSL_CA_FILE', async () => {
    const problems = await failure({ READ_DB_SSL_MODE: 'verify-full', READ_DB_SSL_CA_FILE: certs.strangerCaFile });
    expect(problems).toEqual([{ variable: 'READ_DB_SSL_CA_FILE', message: expect.stringMatching(/the certificate of PostgreSQL at localhost:\d+ is not trusted/) }]);
  });

  it('verify-full refuses a host the certificate is not for; verify-ca does not check the host', async () => {
    // The same server by its address: the certificate names localhost only.
    const byAddress = (env: Record<string, string>) => ({ ...env, READ_DB_URL: server.url });
    const problems = await failure(byAddress({ READ_DB_SSL_MODE: 'verify-full', READ_DB_SSL_CA_FILE: certs.caFile }));
    expect(problems).toEqual([{ variable: 'READ_DB_URL', message: expect.stringMatching(/^the certificate of PostgreSQL at 127\.0\.0\.1:\d+ is not for that host/) }]);
    await withReadModels(byAddress({ READ_DB_SSL_MODE: 'verify-ca', READ_DB_SSL_CA_FILE: certs.caFile }), async (ds) => {
      expect(await ds.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).toEqual([{ ssl: true }]);
    });
  });

  it('a wrong password names its variable, never the password', async () => {
    const problems = await failure({ READ_DB_SSL_MODE: 'verify-full', READ_DB_SSL_CA_FILE: certs.caFile, READ_DB_PASSWORD_FILE: wrongPasswordFile });
    expect(problems).toEqual([{ variable: 'READ_DB_PASSWORD_FILE', message: expect.stringMatching(/PostgreSQL at localhost:\d+ refused the password of user "postgres"/) }]);
    expect(JSON.stringify(problems)).not.toContain('not-the-password');
  });

  it('a plaintext connection to a server that requires TLS names READ_DB_SSL_MODE', async () => {
    const problems = await failure({});
    expect(problems).toEqual([{ variable: 'READ_DB_SSL_MODE', message: expect.stringMatching(/refused a connection without TLS .*no encryption/) }]);
  });
});
