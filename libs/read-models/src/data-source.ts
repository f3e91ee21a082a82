import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type EntitySchema, type MigrationInterface } from 'typeorm';
import { ConfigError, redactCredentials, withoutSecrets, type ResolvedSecret } from '@el/platform';
import { READ_MODEL_ENTITIES } from './schema/entities';
import { READ_MODEL_MIGRATIONS } from './schema/migrations';

/** TLS to PostgreSQL, in libpq's sslmode terms (what a PostgreSQL operator already knows). */
export interface PgTls {
  readonly mode: 'require' | 'verify-ca' | 'verify-full';
  /** PEM CA certificates that verify the server; the system CAs when absent. */
  readonly ca?: string;
}

export type ReadDbConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly poolSize?: number;
      /** The user's password when it is kept out of the URL (READ_DB_PASSWORD_FILE), and the variable it came from. */
      readonly password?: ResolvedSecret;
      /** Plaintext when absent. */
      readonly tls?: PgTls;
    };

/**
 * node-postgres's `ssl` for a mode, with libpq's meaning: require encrypts
 * without verifying the server; verify-ca checks that a trusted CA issued its
 * certificate; verify-full also that the certificate names the host connected to.
 */
export function pgSslOptions(tls: PgTls | undefined): false | { readonly rejectUnauthorized: boolean; readonly ca?: string; readonly checkServerIdentity?: () => undefined } {
  if (!tls) return false;
  const ca = tls.ca ? { ca: tls.ca } : {};
  switch (tls.mode) {
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...ca, rejectUnauthorized: true };
    default: {
      const never: never = tls.mode;
      throw new Error(`unknown TLS mode ${String(never)}`);
    }
  }
}

/** The URL the driver connects with: the configured one, with the password from its secret (pg reads the URL's password over any other). */
function connectionUrl(config: Extract<ReadDbConfig, { kind: 'postgres' }>): string {
  if (!config.password) return config.url;
  const u = new URL(config.url);
  u.password = encodeURIComponent(config.password.value.reveal());
  return u.toString();
}

/** The tables a database holds and the migrations that make them: the read models', the metering store's. */
export interface DatabaseSchema {
  readonly entities: readonly EntitySchema<any>[];
  readonly migrations: readonly (new () => MigrationInterface)[];
  readonly migrationsTableName: string;
  /** PostgreSQL advisory lock id under which the migrations run (processes starting together do not race). */
  readonly migrationLock: number;
}

export const READ_MODELS_SCHEMA: DatabaseSchema = { entities: READ_MODEL_ENTITIES as readonly EntitySchema<any>[], migrations: READ_MODEL_MIGRATIONS, migrationsTableName: 'rm_migrations', migrationLock: 734_112_901 };

export function createReadModelDataSource(config: ReadDbConfig, schema: DatabaseSchema = READ_MODELS_SCHEMA): DataSource {
  const common = { entities: [...schema.entities], migrations: [...schema.migrations], migrationsTableName: schema.migrationsTableName, synchronize: false, logging: false };
  if (config.kind === 'postgres') {
    return new DataSource({ ...common, type: 'postgres', url: connectionUrl(config), ssl: pgSslOptions(config.tls), extra: { max: config.poolSize ?? 10 }, applicationName: 'entitlement-ledger' });
  }
  if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: config.path,
    enableWAL: true,
    timeout: 10_000,
    // Read models can always be rebuilt from the log, and rows commit with their
    // checkpoint, so NORMAL (consistent after any crash) is enough here.
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('synchronous = NORMAL');
      // SQLite's default page cache is 2 MB: once an index outgrows it (a few hundred thousand rows),
      // inserts read its pages back from the file. 64 MB per connection, and the file mapped (256 MB of
      // address space, not memory), save some of that; on a 1M-event start the effect measured small.
      db.pragma('cache_size = -65536');
      db.pragma('mmap_size = 268435456');
    },
  });
}

/**
 * Connects and brings the schema up to date. On PostgreSQL the migrations run
 * under an advisory lock, so services starting together do not race.
 */
export async function openReadModels(config: ReadDbConfig, schema: DatabaseSchema = READ_MODELS_SCHEMA): Promise<DataSource> {
  const ds = createReadModelDataSource(config, schema);
  try {
    await ds.initialize();
  } catch (err) {
    throw explainReadDbFailure(err, config);
  }
  try {
    if (config.kind === 'postgres') {
      const qr = ds.createQueryRunner();
      await qr.connect();
      try {
        await qr.query('SELECT pg_advisory_lock($1)', [schema.migrationLock]);
        await ds.runMigrations({ transaction: 'all' });
      } finally {
        await qr.query('SELECT pg_advisory_unlock($1)', [schema.migrationLock]).catch(() => undefined);
        await qr.release();
      }
    } else {
      await ds.runMigrations({ transaction: 'all' });
    }
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  }
  return ds;
}

/**
 * A failure to connect to PostgreSQL as a ConfigError naming the variable to
 * fix — an untrusted certificate READ_DB_SSL_CA_FILE, a refused password its
 * variable, a server that requires TLS READ_DB_SSL_MODE — without credentials.
 */
export function explainReadDbFailure(err: unknown, config: ReadDbConfig): Error {
  if (config.kind !== 'postgres') return err as Error;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const u = new URL(config.url);
  const at = `PostgreSQL at ${u.hostname}:${u.port || '5432'}`;
  const message = withoutSecrets(redactCredentials(e.message ?? String(err)), [config.password?.value]);
  const problem = (variable: string, text: string) => new ConfigError([{ variable, message: text }]);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return problem('READ_DB_URL', `the certificate of ${at} is not for that host (${message}): connect by a name the certificate carries (or use READ_DB_SSL_MODE=verify-ca)`);
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_|SIGNATURE|ISSUER/.test(code)) {
    return problem('READ_DB_SSL_CA_FILE', `the certificate of ${at} is not trusted (${message}): READ_DB_SSL_CA_FILE must hold the CA that issued it (the system CAs are used when it is unset)`);
  }
  if (code === '28P01') return problem(config.password?.variable ?? 'READ_DB_URL', `${at} refused the password of user "${decodeURIComponent(u.username)}" (${message})`);
  if (/client password must be a string/.test(message)) return problem('READ_DB_PASSWORD_FILE', `${at} asks user "${decodeURIComponent(u.username)}" for a password and none is configured`);
  if (code === '28000' && /no encryption/.test(message)) return problem('READ_DB_SSL_MODE', `${at} refused a connection without TLS (${message}): set READ_DB_SSL_MODE=verify-full`);
  if (/does not support SSL/i.test(message)) return problem('READ_DB_SSL_MODE', `${at} does not accept TLS connections (${message})`);
  return problem('READ_DB_URL', `cannot use ${at}: ${message}`);
}

/** For boot lines and /health: where the read models are, how the connection is secured, never a credential. */
export function describeReadDb(config: ReadDbConfig): string {
  return config.kind === 'sqlite' ? `sqlite:${config.path}` : `postgres:${redactCredentials(config.url)} (${config.tls ? `tls ${config.tls.mode}` : 'no tls'})`;
}
