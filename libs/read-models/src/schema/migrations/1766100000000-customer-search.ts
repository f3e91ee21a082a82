import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customer search by id prefix (`GET /v1/customers?search=`) reads
 * rm_customer_summaries as a range of customer ids in byte order. SQLite
 * compares text bytewise (BINARY), so the primary key serves the range as it
 * is. PostgreSQL compares in the database's collation, and in a linguistic one
 * (en_US, the default of the official image; ICU) the ids that start with a
 * prefix are not one range — `ACME-2` sorts between `acme` and `acme\uffff`,
 * `a-c` between `ab` and `ad` — so the search compares and orders in the "C"
 * collation, served by this index.
 */
export class CustomerSearch1766100000000 implements MigrationInterface {
  name = 'CustomerSearch1766100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.query(`CREATE INDEX "rm_customer_summaries_customer_c" ON "rm_customer_summaries" ("customer_id" COLLATE "C")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.query(`DROP INDEX "rm_customer_summaries_customer_c"`);
  }
}
