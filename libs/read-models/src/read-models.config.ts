import { join, resolve } from 'node:path';
import { ConfigError, env, type ConfigOf } from '@el/platform';
import type { ReadDbConfig } from './data-source';

export const readModelsConfigSpec = {
  READ_DB: env.oneOf(['sqlite', 'postgres'] as const, { default: 'sqlite', description: 'Where the read models live: sqlite (embedded, one process) or postgres (distributed)' }),
  READ_DB_PATH: env.string({ description: 'SQLite file of the read models (default: <DATA_DIR>/read-models.db)' }),
  READ_DB_URL: env.url({ protocols: ['postgres', 'postgresql'], description: 'PostgreSQL URL of the read models; required when READ_DB=postgres (e.g. postgres://ledger:ledger@localhost:5432/ledger)' }),
  READ_DB_POOL_SIZE: env.int({ default: 10, min: 1, max: 200, description: 'PostgreSQL connections per process' }),
  PROJECTOR_SUBSCRIPTION_ID: env.string({ default: 'read-models', description: 'Stable id of the projector\'s subscription: its checkpoint; queries wait on it for minPosition' }),
  QUERY_WAIT_MS: env.int({ default: 2000, min: 0, max: 60_000, description: 'How long a query with minPosition waits for the read models to catch up before answering 503' }),
};

export type ReadModelsConfig = ConfigOf<typeof readModelsConfigSpec>;

/** Resolves where the read models live; a missing URL for PostgreSQL is a configuration error naming READ_DB_URL. */
export function readDbConfig(config: ReadModelsConfig, dataDir: string): ReadDbConfig {
  if (config.READ_DB === 'postgres') {
    if (!config.READ_DB_URL) throw new ConfigError([{ variable: 'READ_DB_URL', message: 'is required when READ_DB=postgres' }]);
    return { kind: 'postgres', url: config.READ_DB_URL, poolSize: config.READ_DB_POOL_SIZE };
  }
  return { kind: 'sqlite', path: resolve(config.READ_DB_PATH ?? join(dataDir, 'read-models.db')) };
}
