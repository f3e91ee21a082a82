import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * mt_unique_values: the distinct values (e.g. userIds) a UNIQUE_COUNT meter has
 * seen in a period — its primary key makes a value count once, whichever event
 * or process brings it first. mt_alerts.upgrade_hint: the plan or add-on that
 * lifts the cap, as JSON.
 */
export class UsageAggregations1765700000000 implements MigrationInterface {
  name = 'UsageAggregations1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'mt_unique_values',
        columns: [
          { name: 'entitlement_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'feature', type: 'varchar', length: '128', isPrimary: true },
          { name: 'period_start', type: 'varchar', length: '32', isPrimary: true },
          { name: 'value', type: 'varchar', length: '128', isPrimary: true },
        ],
      }),
    );
    await q.addColumn('mt_alerts', new TableColumn({ name: 'upgrade_hint', type: 'varchar', length: '1024', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('mt_alerts', 'upgrade_hint');
    await q.dropTable('mt_unique_values');
  }
}
