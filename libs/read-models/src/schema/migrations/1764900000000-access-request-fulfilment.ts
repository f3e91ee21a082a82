import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Access requests record when an approval was carried out (`AccessFulfilled`):
 * an approved request without it is unfinished work for recovery, found by
 * this column's index. Requests approved before this version have no
 * `AccessFulfilled`; recovery records it for them once (their grants replay).
 */
export class AccessRequestFulfilment1764900000000 implements MigrationInterface {
  name = 'AccessRequestFulfilment1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('rm_access_requests', new TableColumn({ name: 'fulfilled_at', type: 'varchar', length: '32', isNullable: true }));
    await queryRunner.createIndex('rm_access_requests', new TableIndex({ name: 'rm_access_requests_unfulfilled', columnNames: ['status', 'fulfilled_at', 'decided_at'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('rm_access_requests', 'rm_access_requests_unfulfilled');
    await queryRunner.dropColumn('rm_access_requests', 'fulfilled_at');
  }
}
