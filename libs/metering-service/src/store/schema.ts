import { EntitySchema, Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import type { DatabaseSchema } from '@el/read-models';
import { UsageAlerts1765600000000 } from './alerts-migration';
import { UsageAggregations1765700000000 } from './aggregations-migration';
import { UsagePeriods1765800000000 } from './periods-migration';
import { UsageCountedAs1765900000000 } from './counted-as-migration';
import { UsageIndexes1766000000000 } from './drop-customer-time-migration';

/** One usage event as received: the raw record kept for export and analytics, and the dedupe key (source, id). */
export interface UsageEventRow {
  source: string;
  id: string;
  payloadHash: string;
  customerId: string;
  entitlementId: string;
  feature: string;
  quantity: number;
  userId: string | null;
  deviceId: string | null;
  eventTime: string;
  periodStart: string;
  position: number;
  receivedAt: string;
  /** sum, count, max, unique_count:userId or unique_count:deviceId: how the meter counted it. */
  countedAs: string;
}

/** A meter's value for one period of one entitlement. */
export interface UsageCounterRow {
  entitlementId: string;
  feature: string;
  periodStart: string;
  value: number;
  events: number;
  position: number;
}

const str = (name: string, length = 128) => ({ name, type: 'varchar' as const, length });

export const UsageEventEntity = new EntitySchema<UsageEventRow>({
  name: 'UsageEvent',
  tableName: 'mt_usage_events',
  columns: {
    source: { ...str('source', 256), primary: true },
    id: { ...str('id', 256), primary: true },
    payloadHash: str('payload_hash', 64),
    customerId: str('customer_id'),
    entitlementId: str('entitlement_id'),
    feature: str('feature'),
    quantity: { name: 'quantity', type: 'double precision' as never },
    userId: { ...str('user_id'), nullable: true },
    deviceId: { ...str('device_id'), nullable: true },
    eventTime: str('event_time', 32),
    periodStart: str('period_start', 32),
    position: { name: 'position', type: 'bigint' },
    receivedAt: str('received_at', 32),
    countedAs: { ...str('counted_as', 32), default: 'sum' },
  },
  indices: [
    { name: 'mt_usage_events_position', columns: ['position'], unique: true },
    { name: 'mt_usage_events_period', columns: ['entitlementId', 'periodStart', 'position'] },
  ],
});

export const UsageCounterEntity = new EntitySchema<UsageCounterRow>({
  name: 'UsageCounter',
  tableName: 'mt_counters',
  columns: {
    entitlementId: { ...str('entitlement_id'), primary: true },
    feature: { ...str('feature'), primary: true },
    periodStart: { ...str('period_start', 32), primary: true },
    value: { name: 'value', type: 'double precision' as never },
    events: { name: 'events', type: 'bigint' },
    position: { name: 'position', type: 'bigint' },
  },
});

/** A threshold of a cap reached in a period (once per entitlement, meter, period and threshold). */
export interface UsageAlertRow {
  entitlementId: string;
  feature: string;
  periodStart: string;
  threshold: number;
  customerId: string;
  cap: number;
  used: number;
  capType: string;
  position: number;
  raisedAt: string;
  published: number;
  upgradeHint: string | null;
}

export const UsageAlertEntity = new EntitySchema<UsageAlertRow>({
  name: 'UsageAlert',
  tableName: 'mt_alerts',
  columns: {
    entitlementId: { ...str('entitlement_id'), primary: true },
    feature: { ...str('feature'), primary: true },
    periodStart: { ...str('period_start', 32), primary: true },
    threshold: { name: 'threshold', type: 'integer', primary: true },
    customerId: str('customer_id'),
    cap: { name: 'cap', type: 'double precision' as never },
    used: { name: 'used', type: 'double precision' as never },
    capType: str('cap_type', 8),
    position: { name: 'position', type: 'bigint' },
    raisedAt: str('raised_at', 32),
    published: { name: 'published', type: 'integer', default: 0 },
    upgradeHint: { ...str('upgrade_hint', 1024), nullable: true },
  },
  indices: [{ name: 'mt_alerts_customer', columns: ['customerId', 'raisedAt'] }],
});

/** A value (userId, deviceId) a UNIQUE_COUNT meter has counted in a period. */
export interface UniqueValueRow {
  entitlementId: string;
  feature: string;
  periodStart: string;
  value: string;
}

export const UniqueValueEntity = new EntitySchema<UniqueValueRow>({
  name: 'UsageUniqueValue',
  tableName: 'mt_unique_values',
  columns: {
    entitlementId: { ...str('entitlement_id'), primary: true },
    feature: { ...str('feature'), primary: true },
    periodStart: { ...str('period_start', 32), primary: true },
    value: { ...str('value'), primary: true },
  },
});

/**
 * mt_usage_events (the raw events, primary key = the dedupe key), mt_counters
 * (per entitlement, meter and period) and mt_positions (the usage position:
 * a sequence every accepted event takes a number from).
 */
export class InitialMetering1765500000000 implements MigrationInterface {
  name = 'InitialMetering1765500000000';

  async up(q: QueryRunner): Promise<void> {
    // SQLite takes the name too (REAL affinity), so one entity type fits both databases.
    const double = 'double precision';
    await q.createTable(
      new Table({
        name: 'mt_usage_events',
        columns: [
          { name: 'source', type: 'varchar', length: '256', isPrimary: true },
          { name: 'id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'payload_hash', type: 'varchar', length: '64' },
          { name: 'customer_id', type: 'varchar', length: '128' },
          { name: 'entitlement_id', type: 'varchar', length: '128' },
          { name: 'feature', type: 'varchar', length: '128' },
          { name: 'quantity', type: double },
          { name: 'user_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'device_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'event_time', type: 'varchar', length: '32' },
          { name: 'period_start', type: 'varchar', length: '32' },
          { name: 'position', type: 'bigint' },
          { name: 'received_at', type: 'varchar', length: '32' },
        ],
        indices: [
          new TableIndex({ name: 'mt_usage_events_customer_time', columnNames: ['customer_id', 'event_time'] }),
          new TableIndex({ name: 'mt_usage_events_position', columnNames: ['position'], isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'mt_counters',
        columns: [
          { name: 'entitlement_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'feature', type: 'varchar', length: '128', isPrimary: true },
          { name: 'period_start', type: 'varchar', length: '32', isPrimary: true },
          { name: 'value', type: double },
          { name: 'events', type: 'bigint' },
          { name: 'position', type: 'bigint' },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'mt_positions',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'value', type: 'bigint' },
        ],
      }),
    );
    await q.query(`INSERT INTO mt_positions (name, value) VALUES ('usage', 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['mt_positions', 'mt_counters', 'mt_usage_events']) await q.dropTable(t);
  }
}

export const METERING_SCHEMA: DatabaseSchema = {
  entities: [UsageEventEntity, UsageCounterEntity, UsageAlertEntity, UniqueValueEntity] as EntitySchema<any>[],
  migrations: [InitialMetering1765500000000, UsageAlerts1765600000000, UsageAggregations1765700000000, UsagePeriods1765800000000, UsageCountedAs1765900000000, UsageIndexes1766000000000],
  migrationsTableName: 'mt_migrations',
  migrationLock: 734_112_902,
};
