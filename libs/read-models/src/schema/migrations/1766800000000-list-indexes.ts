import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Every list query is one range of an index in its own order (keyset pages):
 * the lists without a filter (entitlements by grant, orders by receipt,
 * access requests by request) had none, so each page scanned and sorted the
 * whole table — 423 ms a page at a million entitlements. The customer's
 * access requests are listed by request time, with or without a status. The
 * sweeps read in the order they work: entitlements by the end of their grace,
 * approvals not fulfilled by decision time, dunning cases by status and their last change.
 * `list-plans.int.spec.ts` asks the database for the plan of each.
 */
const ADDED: readonly [table: string, index: TableIndex][] = [
  ['rm_entitlements', new TableIndex({ name: 'rm_entitlements_granted', columnNames: ['granted_at', 'entitlement_id'] })],
  ['rm_entitlements', new TableIndex({ name: 'rm_entitlements_customer_valid_until', columnNames: ['customer_id', 'valid_until', 'entitlement_id'] })],
  ['rm_entitlements', new TableIndex({ name: 'rm_entitlements_grace', columnNames: ['grace_ends_at'] })],
  ['rm_orders', new TableIndex({ name: 'rm_orders_received', columnNames: ['received_at', 'order_id'] })],
  ['rm_access_requests', new TableIndex({ name: 'rm_access_requests_requested', columnNames: ['requested_at', 'request_id'] })],
  ['rm_access_requests', new TableIndex({ name: 'rm_access_requests_customer_requested', columnNames: ['customer_id', 'requested_at', 'request_id'] })],
  ['rm_access_requests', new TableIndex({ name: 'rm_access_requests_customer_status', columnNames: ['customer_id', 'status', 'requested_at', 'request_id'] })],
  ['rm_dunning', new TableIndex({ name: 'rm_dunning_recovering', columnNames: ['status', 'updated_at'] })],
  ['rm_access_requests', new TableIndex({ name: 'rm_access_requests_unfulfilled_decided', columnNames: ['status', 'decided_at'], where: 'fulfilled_at IS NULL' })],
];
/**
 * Replaced: rm_access_requests_customer by rm_access_requests_customer_status, which also orders ties
 * by request id; rm_access_requests_unfulfilled by a partial index, in the order the sweep reads.
 */
const DROPPED: readonly [table: string, index: TableIndex][] = [
  ['rm_access_requests', new TableIndex({ name: 'rm_access_requests_customer', columnNames: ['customer_id', 'status', 'requested_at'] })],
  ['rm_access_requests', new TableIndex({ name: 'rm_access_requests_unfulfilled', columnNames: ['status', 'fulfilled_at', 'decided_at'] })],
];

export class ListIndexes1766800000000 implements MigrationInterface {
  name = 'ListIndexes1766800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, index] of ADDED) await queryRunner.createIndex(table, index);
    for (const [table, index] of DROPPED) await queryRunner.dropIndex(table, index.name!);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, index] of DROPPED) await queryRunner.createIndex(table, index);
    for (const [table, index] of [...ADDED].reverse()) await queryRunner.dropIndex(table, index.name!);
  }
}
