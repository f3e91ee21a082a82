import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * mt_alerts: one row per entitlement, meter, period and threshold crossed —
 * its primary key makes an alert fire once, across restarts and redeliveries.
 */
export class UsageAlerts1765600000000 implements MigrationInterface {
  name = 'UsageAlerts1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'mt_alerts',
        columns: [
          { name: 'entitlement_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'feature', type: 'varchar', length: '128', isPrimary: true },
          { name: 'period_start', type: 'varchar', length: '32', isPrimary: true },
          { name: 'threshold', type: 'integer', isPrimary: true },
          { name: 'customer_id', type: 'varchar', length: '128' },
          { name: 'cap', type: 'double precision' },
          { name: 'used', type: 'double precision' },
          { name: 'cap_type', type: 'varchar', length: '8' },
          { name: 'position', type: 'bigint' },
          { name: 'raised_at', type: 'varchar', length: '32' },
          // Set once the alert is on metering.alerts.v1: alerts committed but not yet published are sent at the next start.
          { name: 'published', type: 'integer', default: 0 },
        ],
      }),
    );
    await q.query('CREATE INDEX mt_alerts_customer ON mt_alerts (customer_id, raised_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('mt_alerts');
  }
}
