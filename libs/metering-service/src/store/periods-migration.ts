import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * mt_corrections: one row per correction (primary key = its correctionId, so it
 * moves the counter once), with the usage position it took.
 * mt_period_closes: the UsagePeriodClosed record of each closed period, as the
 * event store holds it — a closed period's export is read from here and never
 * changes. And an index that finds a period's raw events (close, export lines).
 */
export class UsagePeriods1765800000000 implements MigrationInterface {
  name = 'UsagePeriods1765800000000';

  async up(q: QueryRunner): Promise<void> {
    const double = 'double precision';
    await q.createTable(
      new Table({
        name: 'mt_corrections',
        columns: [
          { name: 'correction_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'fingerprint', type: 'varchar', length: '64' },
          { name: 'customer_id', type: 'varchar', length: '128' },
          { name: 'entitlement_id', type: 'varchar', length: '128' },
          { name: 'feature', type: 'varchar', length: '128' },
          { name: 'period_start', type: 'varchar', length: '32' },
          { name: 'quantity', type: double },
          { name: 'reason', type: 'varchar', length: '500' },
          // JSON: [{source, id}], at most 100 (the contract's bound).
          { name: 'corrects', type: 'text' },
          { name: 'actor', type: 'varchar', length: '200' },
          { name: 'corrected_at', type: 'varchar', length: '32' },
          { name: 'position', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'mt_corrections_period', columnNames: ['entitlement_id', 'period_start', 'feature'] }),
          new TableIndex({ name: 'mt_corrections_position', columnNames: ['position'], isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'mt_period_closes',
        columns: [
          { name: 'entitlement_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'feature', type: 'varchar', length: '128', isPrimary: true },
          { name: 'period_start', type: 'varchar', length: '32', isPrimary: true },
          { name: 'customer_id', type: 'varchar', length: '128' },
          { name: 'closed_at', type: 'varchar', length: '32' },
          // The UsagePeriodClosed event's data, as stored in the event store (JSON).
          { name: 'record', type: 'text' },
          { name: 'event_position', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'mt_period_closes_customer', columnNames: ['customer_id', 'period_start'] })],
      }),
    );
    await q.query('CREATE INDEX mt_usage_events_period ON mt_usage_events (entitlement_id, period_start, position)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX mt_usage_events_period');
    await q.dropTable('mt_period_closes');
    await q.dropTable('mt_corrections');
  }
}
