import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * rm_dunning: one row per customer whose payments the gateway has reported,
 * with when a suspension falls due; the dunning sweeper finds due cases by
 * `rm_dunning_due`.
 */
export class Dunning1765400000000 implements MigrationInterface {
  name = 'Dunning1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'rm_dunning',
        columns: [
          { name: 'customer_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'suspend_at', type: 'varchar', length: '32', isNullable: true },
          { name: 'unpaid_invoices', type: 'integer' },
          { name: 'suspended_entitlements', type: 'integer' },
          { name: 'updated_at', type: 'varchar', length: '32' },
          { name: 'state', type: 'text' },
          { name: 'last_revision', type: 'integer' },
          { name: 'last_position', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'rm_dunning_due', columnNames: ['status', 'suspend_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('rm_dunning');
  }
}
