import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * mt_usage_events.counted_as: how the event was counted — `sum`, `count`,
 * `max`, `unique_count:userId` or `unique_count:deviceId` — so the counters
 * and the distinct values can be rebuilt from the raw events alone, and the
 * export's lineage says what each event did.
 */
export class UsageCountedAs1765900000000 implements MigrationInterface {
  name = 'UsageCountedAs1765900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('mt_usage_events', new TableColumn({ name: 'counted_as', type: 'varchar', length: '32', default: "'sum'" }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('mt_usage_events', 'counted_as');
  }
}
