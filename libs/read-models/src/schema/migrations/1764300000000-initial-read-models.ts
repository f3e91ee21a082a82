import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

/**
 * The first read-model schema. A snapshot: never edit it once released; add a
 * new migration instead. The same statements run on PostgreSQL and SQLite.
 */
const v = (name: string, length = 128, isNullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable });
const i = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'integer', isNullable });
const t = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'text', isNullable });
const ts = (name: string, isNullable = false): TableColumnOptions => v(name, 32, isNullable);
const big = (name: string): TableColumnOptions => ({ name, type: 'bigint' });
const pk = (c: TableColumnOptions): TableColumnOptions => ({ ...c, isPrimary: true });

export const INITIAL_TABLES: Table[] = [
  new Table({
    name: 'rm_entitlements',
    columns: [
      pk(v('entitlement_id')), v('customer_id'), v('product_id', 64), v('plan_id', 64), v('plan_sku', 64), i('tier'), i('catalog_version'),
      v('status', 16), t('status_reason', true), i('seats'), i('seats_assigned'), i('devices_active'), i('device_limit', true),
      ts('valid_from'), ts('valid_until', true), ts('grace_ends_at', true), t('features'), v('origin_kind', 16), v('origin_ref', 128, true),
      ts('granted_at'), ts('updated_at'), t('state'), t('seat_assigned_at'), i('last_revision'), big('last_position'),
    ],
    indices: [
      new TableIndex({ name: 'rm_entitlements_customer', columnNames: ['customer_id', 'granted_at', 'entitlement_id'] }),
      new TableIndex({ name: 'rm_entitlements_status_granted', columnNames: ['status', 'granted_at', 'entitlement_id'] }),
      new TableIndex({ name: 'rm_entitlements_product', columnNames: ['product_id', 'granted_at', 'entitlement_id'] }),
      new TableIndex({ name: 'rm_entitlements_valid_until', columnNames: ['valid_until', 'entitlement_id'] }),
    ],
  }),
  new Table({
    name: 'rm_seat_assignments',
    columns: [pk(v('entitlement_id')), pk(v('user_id')), v('customer_id'), ts('assigned_at')],
    indices: [new TableIndex({ name: 'rm_seat_assignments_user', columnNames: ['user_id'] })],
  }),
  new Table({
    name: 'rm_device_activations',
    columns: [pk(v('entitlement_id')), pk(v('device_id')), v('customer_id'), v('user_id', 128, true), ts('activated_at')],
    indices: [new TableIndex({ name: 'rm_device_activations_device', columnNames: ['device_id'] })],
  }),
  new Table({
    name: 'rm_orders',
    columns: [
      pk(v('order_id')), v('customer_id'), v('status', 16), i('partial'), ts('effective_at'), ts('received_at'), i('catalog_version'),
      t('lines'), t('results', true), t('rejection', true), t('entitlement_ids'), i('last_revision'), big('last_position'),
    ],
    indices: [
      new TableIndex({ name: 'rm_orders_customer', columnNames: ['customer_id', 'received_at', 'order_id'] }),
      new TableIndex({ name: 'rm_orders_status', columnNames: ['status', 'received_at', 'order_id'] }),
    ],
  }),
  new Table({
    name: 'rm_access_requests',
    columns: [
      pk(v('request_id')), v('customer_id'), v('status', 16), v('sku', 64), v('kind', 16), i('quantity'), v('requested_by'), t('reason'),
      v('entitlement_id', 128, true), ts('requested_at'), v('decided_by', 128, true), ts('decided_at', true), t('decision_note', true), t('state'),
      i('last_revision'), big('last_position'),
    ],
    indices: [
      new TableIndex({ name: 'rm_access_requests_status', columnNames: ['status', 'requested_at', 'request_id'] }),
      new TableIndex({ name: 'rm_access_requests_customer', columnNames: ['customer_id', 'status', 'requested_at'] }),
    ],
  }),
  new Table({
    name: 'rm_customer_summaries',
    columns: [pk(v('customer_id')), i('entitlements'), i('active'), i('suspended'), i('expired'), i('revoked'), i('seats'), i('seats_assigned'), t('products'), big('last_position')],
  }),
  new Table({
    name: 'rm_checkpoints',
    columns: [pk(v('subscription_id')), big('position'), ts('updated_at')],
  }),
];

export class InitialReadModels1764300000000 implements MigrationInterface {
  name = 'InitialReadModels1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of INITIAL_TABLES) await queryRunner.createTable(table, true, false, true);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...INITIAL_TABLES].reverse()) await queryRunner.dropTable(table.name, true);
  }
}

