import { join, resolve } from 'node:path';
import { ConfigError, ConfigProblems, env, readCertificateFile, secretFrom, secretVariables, type ConfigOf } from '@el/platform';
import type { PgTls, ReadDbConfig } from './data-source';

export const readModelsConfigSpec = {
  READ_DB: env.oneOf(['sqlite', 'postgres'] as const, { default: 'sqlite', description: 'Where the read models live: sqlite (embedded, one process) or postgres (distributed)' }),
  READ_DB_PATH: env.string({ description: 'SQLite file of the read models (default: <DATA_DIR>/read-models.db)' }),
  READ_DB_URL: env.url({ protocols: ['postgres', 'postgresql'], description: 'PostgreSQL URL of the read models; required when READ_DB=postgres (e.g. postgres://ledger@localhost:5432/ledger, the password in READ_DB_PASSWORD_FILE)' }),
  ...secretVariables('READ_DB_PASSWORD', { description: 'Password of the READ_DB_URL user, when the URL holds none' }),
  READ_DB_SSL_MODE: env.oneOf(['disable', 'require', 'verify-ca', 'verify-full'] as const, {
    default: 'disable',
    description: 'TLS to PostgreSQL, as libpq\'s sslmode: disable, require (encrypted, server not verified), verify-ca (certificate from a trusted CA), verify-full (and issued for the host)',
  }),
  READ_DB_SSL_CA_FILE: env.string({ description: 'PEM CA certificates that verify the PostgreSQL server (verify-ca, verify-full; default: the system CAs)' }),
  READ_DB_POOL_SIZE: env.int({ default: 10, min: 1, max: 200, description: 'PostgreSQL connections per process' }),
  PROJECTOR_SUBSCRIPTION_ID: env.string({ default: 'read-models', description: 'Stable id of the projector\'s subscription: its checkpoint; queries wait on it for minPosition' }),
  QUERY_WAIT_MS: env.int({ default: 2000, min: 0, max: 60_000, description: 'How long a query with minPosition waits for the read models to catch up before answering 503' }),
};

export type ReadModelsConfig = ConfigOf<typeof readModelsConfigSpec>;

/** Connection-string parameters that would override READ_DB_SSL_MODE / READ_DB_PASSWORD inside the driver (pg reads the URL last). */
const URL_TLS_PARAMS = ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'uselibpqcompat'];

/**
 * Resolves where the read models live, reading the password and CA files the
 * variables name; every problem at once, each naming its variable. TLS and the
 * password are configured one way only: a URL that carries sslmode (or a password
 * while READ_DB_PASSWORD_FILE is set) is refused rather than silently winning.
 */
export function readDbConfig(config: ReadModelsConfig, dataDir: string): ReadDbConfig {
  if (config.READ_DB !== 'postgres') return { kind: 'sqlite', path: resolve(config.READ_DB_PATH ?? join(dataDir, 'read-models.db')) };
  return postgresDbConfig('READ_DB', config, config.READ_DB_POOL_SIZE);
}

/**
 * A PostgreSQL connection from the variables `<prefix>_URL`, `<prefix>_PASSWORD(_FILE)`,
 * `<prefix>_SSL_MODE` and `<prefix>_SSL_CA_FILE` (the read models' READ_DB_*, the
 * metering store's METERING_DB_*), with the rules of `readDbConfig`.
 */
export function postgresDbConfig(prefix: string, config: Readonly<Record<string, unknown>>, poolSize?: number): ReadDbConfig & { kind: 'postgres' } {
  const v = (name: string) => `${prefix}_${name}`;
  const urlText = config[v('URL')] as string | undefined;
  if (!urlText) throw new ConfigError([{ variable: v('URL'), message: `is required when ${prefix}=postgres` }]);
  const problems = new ConfigProblems();
  const url = new URL(urlText);
  const inUrl = URL_TLS_PARAMS.filter((p) => url.searchParams.has(p));
  if (inUrl.length > 0) problems.add(v('URL'), `carries ${inUrl.join(', ')}: configure TLS with ${v('SSL_MODE')} and ${v('SSL_CA_FILE')} instead`);
  const password = problems.check(() => secretFrom(config, v('PASSWORD')));
  if (password && url.password) problems.add(v('URL'), `holds a password and ${password.variable} is set: keep the password in one place (the secret)`);
  const tls = problems.check(() => tlsOf(prefix, config[v('SSL_MODE')] as PgSslMode | undefined, config[v('SSL_CA_FILE')] as string | undefined));
  problems.throwIfAny();
  return {
    kind: 'postgres',
    url: urlText,
    ...(poolSize !== undefined ? { poolSize } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
  };
}

type PgSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

function tlsOf(prefix: string, mode: PgSslMode = 'disable', caFile: string | undefined): PgTls | undefined {
  if (caFile && (mode === 'disable' || mode === 'require')) {
    throw new ConfigError([{ variable: `${prefix}_SSL_CA_FILE`, message: `is only used to verify the server: set ${prefix}_SSL_MODE=verify-full (or verify-ca), not ${mode}` }]);
  }
  if (mode === 'disable') return undefined;
  const ca = caFile ? readCertificateFile(`${prefix}_SSL_CA_FILE`, caFile) : undefined;
  return { mode, ...(ca ? { ca } : {}) };
}
