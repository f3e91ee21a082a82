import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * au_decisions: the enforcement decision log (enforcement.decisions.v1), kept
 * by the audit service; and au_leaves by stream (a replay reads the catalog
 * stream's events).
 */
export class AuditDecisions1766200000000 implements MigrationInterface {
  name = 'AuditDecisions1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'au_decisions',
        columns: [
          { name: 'id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'customer_id', type: 'varchar', length: '128' },
          { name: 'decided_at', type: 'varchar', length: '40' },
          { name: 'position', type: 'bigint' },
          { name: 'code', type: 'varchar', length: '40' },
          { name: 'allowed', type: 'integer' },
          { name: 'record', type: 'text' },
          { name: 'seq', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'au_decisions_customer', columnNames: ['customer_id', 'seq'] }), new TableIndex({ name: 'au_decisions_seq', columnNames: ['seq'], isUnique: true })],
      }),
    );
    await q.createIndex('au_leaves', new TableIndex({ name: 'au_leaves_stream', columnNames: ['stream', 'leaf_index'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('au_leaves', 'au_leaves_stream');
    await q.dropTable('au_decisions');
  }
}
