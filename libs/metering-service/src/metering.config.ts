import { join } from 'node:path';
import { ConfigError, env, type ConfigOf } from '@el/platform';
import type { ReadDbConfig } from '@el/read-models';

/** The metering service's own variables. */
export const meteringConfigSpec = {
  METERING_DB: env.oneOf(['sqlite', 'postgres'] as const, { default: 'sqlite', description: 'Where usage events and counters are kept: sqlite (embedded, DATA_DIR/metering.db) or postgres (METERING_DB_URL)' }),
  METERING_DB_PATH: env.string({ default: '', description: 'SQLite file of the metering store (default DATA_DIR/metering.db)' }),
  METERING_DB_URL: env.string({ default: '', description: 'PostgreSQL URL of the metering store; required when METERING_DB=postgres' }),
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
  USAGE_MAX_FUTURE_SECONDS: env.int({ default: 300, min: 0, max: 86_400, description: 'How far ahead of the metering clock a usage event time may be (clock skew): beyond it USAGE.TIME_IN_FUTURE' }),
};
export type MeteringConfig = ConfigOf<typeof meteringConfigSpec>;

export const METERING_CONFIG = Symbol('METERING_CONFIG');
export const METERING_DB = Symbol('METERING_DB');

export function meteringDbConfig(config: MeteringConfig, dataDir: string): ReadDbConfig {
  if (config.METERING_DB === 'postgres') {
    if (!config.METERING_DB_URL) throw new ConfigError([{ variable: 'METERING_DB_URL', message: 'is required when METERING_DB=postgres' }]);
    return { kind: 'postgres', url: config.METERING_DB_URL };
  }
  return { kind: 'sqlite', path: config.METERING_DB_PATH || join(dataDir, 'metering.db') };
}
