import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type EntitySchema } from 'typeorm';
import { READ_MODEL_ENTITIES } from './schema/entities';
import { READ_MODEL_MIGRATIONS } from './schema/migrations';

export type ReadDbConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number };

export function createReadModelDataSource(config: ReadDbConfig): DataSource {
  const common = { entities: [...READ_MODEL_ENTITIES] as EntitySchema<any>[], migrations: [...READ_MODEL_MIGRATIONS], migrationsTableName: 'rm_migrations', synchronize: false, logging: false };
  if (config.kind === 'postgres') {
    return new DataSource({ ...common, type: 'postgres', url: config.url, extra: { max: config.poolSize ?? 10 }, applicationName: 'entitlement-ledger' });
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
    },
  });
}

const MIGRATION_LOCK = 734_112_901;

/**
 * Connects and brings the schema up to date. On PostgreSQL the migrations run
 * under an advisory lock, so services starting together do not race.
 */
export async function openReadModels(config: ReadDbConfig): Promise<DataSource> {
  const ds = createReadModelDataSource(config);
  await ds.initialize();
  try {
    if (config.kind === 'postgres') {
      const qr = ds.createQueryRunner();
      await qr.connect();
      try {
        await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await ds.runMigrations({ transaction: 'all' });
      } finally {
        await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
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

export function describeReadDb(config: ReadDbConfig): string {
  return config.kind === 'sqlite' ? `sqlite:${config.path}` : `postgres:${redact(config.url)}`;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}
