import { join } from 'node:path';
import { TOPICS } from '@el/contracts';
import { eventStoreConfigSpec } from '@el/event-store';
import { identityConfigSpec } from '@el/identity';
import { messagingConfigSpec } from '@el/messaging';
import { baseServiceConfigSpec, env, readConfig, secretVariables, type ConfigOf } from '@el/platform';
import { postgresDbConfig, type ReadDbConfig } from '@el/read-models';

/** The metering service's own variables. */
export const meteringConfigSpec = {
  CATALOG_PATH: env.string({ default: './catalog/sample-catalog.yaml', description: 'Product catalog (YAML or JSON); names the plan or add-on that lifts a cap (upgrade hints on usage alerts)' }),
  METERING_DB: env.oneOf(['sqlite', 'postgres'] as const, { default: 'sqlite', description: 'Where usage events and counters are kept: sqlite (embedded, DATA_DIR/metering.db) or postgres (METERING_DB_URL)' }),
  METERING_DB_PATH: env.string({ default: '', description: 'SQLite file of the metering store (default DATA_DIR/metering.db)' }),
  METERING_DB_URL: env.url({ protocols: ['postgres', 'postgresql'], description: 'PostgreSQL URL of the metering store; required when METERING_DB=postgres (e.g. postgres://ledger@localhost:5432/metering, the password in METERING_DB_PASSWORD_FILE)' }),
  ...secretVariables('METERING_DB_PASSWORD', { description: 'Password of the METERING_DB_URL user, when the URL holds none' }),
  METERING_DB_SSL_MODE: env.oneOf(['disable', 'require', 'verify-ca', 'verify-full'] as const, { default: 'disable', description: 'TLS to the metering PostgreSQL, as READ_DB_SSL_MODE' }),
  METERING_DB_SSL_CA_FILE: env.string({ description: 'PEM CA certificates that verify the metering PostgreSQL server (verify-ca, verify-full; default: the system CAs)' }),
  METERING_DB_POOL_SIZE: env.int({ default: 10, min: 1, max: 200, description: 'PostgreSQL connections of the metering store per process' }),
  METERING_USAGE_GROUP: env.string({ default: 'metering-usage', description: 'Kafka consumer group of the metering service on metering.usage.v1' }),
  METERING_USAGE_CONCURRENCY: env.int({ default: 256, min: 1, max: 1000, description: 'Usage messages of one partition in flight at once, recorded together in one transaction per group (any key: usage counts the same in any order)' }),
  USAGE_ALERT_THRESHOLDS: {
    ...env.list({ description: 'Percentages of a cap at which an alert is raised, once per period (metering.alerts.v1, GET /v1/customers/:id/alerts)' }),
    default: ['80', '100'],
    parse(raw: string): readonly string[] {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0 || items.some((i) => !/^\d{1,3}$/.test(i) || Number(i) < 1 || Number(i) > 1000)) throw new Error('must list whole percentages from 1 to 1000, e.g. 80,100');
      return items;
    },
  },
  USAGE_LATENESS_HOURS: env.int({ default: 72, min: 0, max: 24 * 90, description: 'How late a usage event may arrive (its time before now): older ones are refused with USAGE.TOO_LATE' }),
  USAGE_CLOSE_INTERVAL_MS: env.int({ default: 60_000, min: 0, max: 86_400_000, description: 'How often due usage periods are closed (UsagePeriodClosed); 0: never on its own' }),
  USAGE_CLOSE_SETTLE_SECONDS: env.int({ default: 300, min: 0, max: 86_400, description: 'Margin after a period end plus USAGE_LATENESS_HOURS before it closes: covers ingests in flight and clock skew between processes' }),
  USAGE_MAX_FUTURE_SECONDS: env.int({ default: 300, min: 0, max: 86_400, description: 'How far ahead of the metering clock a usage event time may be (clock skew): beyond it USAGE.TIME_IN_FUTURE' }),
};
export type MeteringConfig = ConfigOf<typeof meteringConfigSpec>;

/**
 * Everything the metering service process reads (apps/metering): it also keeps
 * the event store, where usage corrections and period closes are recorded.
 */
export const meteringServiceConfigSpec = { ...baseServiceConfigSpec, ...identityConfigSpec, ...eventStoreConfigSpec, ...messagingConfigSpec, ...meteringConfigSpec };
export type MeteringServiceConfig = ConfigOf<typeof meteringServiceConfigSpec>;

export function readMeteringServiceConfig(source: NodeJS.ProcessEnv = process.env): MeteringServiceConfig {
  return readConfig(meteringServiceConfigSpec, source);
}

export const METERING_CONFIG = Symbol('METERING_CONFIG');
export const METERING_DB = Symbol('METERING_DB');
/** The product catalog (for upgrade hints). */
export const METERING_CATALOG = Symbol('METERING_CATALOG');
export const METERING_OPTIONS = Symbol('METERING_OPTIONS');

/** Where the metering service reads and writes besides its store (tests use topics of their own). */
export interface MeteringOptions {
  /** The entitlement feed its meters come from (default ledger.entitlements.v1). */
  readonly entitlementsTopic: string;
  /** Where customers' counters are published for enforcement services elsewhere (default metering.counters.v1). */
  readonly countersTopic: string;
}

export const DEFAULT_METERING_OPTIONS: MeteringOptions = { entitlementsTopic: TOPICS.entitlements, countersTopic: TOPICS.usageCounters };

export function meteringDbConfig(config: MeteringConfig, dataDir: string): ReadDbConfig {
  if (config.METERING_DB === 'postgres') return postgresDbConfig('METERING_DB', config, config.METERING_DB_POOL_SIZE);
  return { kind: 'sqlite', path: config.METERING_DB_PATH || join(dataDir, 'metering.db') };
}
