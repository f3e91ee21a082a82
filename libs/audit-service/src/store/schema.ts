import { EntitySchema, Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import type { DatabaseSchema } from '@el/read-models';
import { AuditDecisions1766200000000 } from './decisions-migration';

/**
 * One event of the log, as the audit service received it: its place in the
 * tree (leaf_index, 0-based and dense), the exact bytes its leaf hash covers
 * (`entry`: RFC 8785 canonical JSON of position, stream, revision, type, data,
 * metadata) and the columns history queries filter on.
 */
export interface AuditLeafRow {
  leafIndex: number;
  position: number;
  eventId: string;
  stream: string;
  revision: number;
  type: string;
  entry: string;
  leafHash: string;
  recordedAt: string;
  effectiveAt: string | null;
}

/** What an event is about or who caused it, for history queries: (kind, ref) → leaf. */
export interface AuditRefRow {
  kind: string;
  ref: string;
  leafIndex: number;
}

/** The customer a stream belongs to, learned from its first event that names one. */
export interface AuditStreamRow {
  stream: string;
  customerId: string;
}

export interface TreeHeadRow {
  treeSize: number;
  rootHash: string;
  lastPosition: number;
  timestamp: string;
  kid: string;
  signature: string;
  published: number;
}

/** Named values: the Kafka offset the feed resumes from. */
export interface AuditStateRow {
  name: string;
  value: string;
}

const str = (name: string, length = 128) => ({ name, type: 'varchar' as const, length });
const big = (name: string) => ({ name, type: 'bigint' as const });

export const AuditLeafEntity = new EntitySchema<AuditLeafRow>({
  name: 'AuditLeaf',
  tableName: 'au_leaves',
  columns: {
    leafIndex: { ...big('leaf_index'), primary: true },
    position: big('position'),
    eventId: str('event_id', 256),
    stream: str('stream', 512),
    revision: big('revision'),
    type: str('type', 256),
    entry: { name: 'entry', type: 'text' },
    leafHash: str('leaf_hash', 64),
    recordedAt: str('recorded_at', 64),
    effectiveAt: { ...str('effective_at', 64), nullable: true },
  },
  indices: [
    { name: 'au_leaves_position', columns: ['position'], unique: true },
    { name: 'au_leaves_stream', columns: ['stream', 'leafIndex'] },
  ],
});

export const AuditRefEntity = new EntitySchema<AuditRefRow>({
  name: 'AuditRef',
  tableName: 'au_refs',
  columns: {
    kind: { ...str('kind', 16), primary: true },
    ref: { ...str('ref', 512), primary: true },
    leafIndex: { ...big('leaf_index'), primary: true },
  },
});

export const AuditStreamEntity = new EntitySchema<AuditStreamRow>({
  name: 'AuditStream',
  tableName: 'au_streams',
  columns: {
    stream: { ...str('stream', 512), primary: true },
    customerId: str('customer_id', 256),
  },
});

export const TreeHeadEntity = new EntitySchema<TreeHeadRow>({
  name: 'AuditTreeHead',
  tableName: 'au_tree_heads',
  columns: {
    treeSize: { ...big('tree_size'), primary: true },
    rootHash: str('root_hash', 64),
    lastPosition: big('last_position'),
    timestamp: str('timestamp', 32),
    kid: str('kid', 128),
    signature: str('signature', 128),
    published: { name: 'published', type: 'integer', default: 0 },
  },
});

export const AuditStateEntity = new EntitySchema<AuditStateRow>({
  name: 'AuditState',
  tableName: 'au_state',
  columns: {
    // kafka_offset:<topic>: a Kafka topic name has up to 249 characters.
    name: { ...str('name', 300), primary: true },
    value: str('value', 256),
  },
});

/** One decision of the enforcement service as its decision log recorded it (DecisionRecordV1 in `record`); `seq` orders them as received. */
export interface AuditDecisionRow {
  id: string;
  customerId: string;
  decidedAt: string;
  position: number;
  code: string;
  allowed: number;
  record: string;
  seq: number;
}

export const AuditDecisionEntity = new EntitySchema<AuditDecisionRow>({
  name: 'AuditDecision',
  tableName: 'au_decisions',
  columns: {
    id: { ...str('id', 128), primary: true },
    customerId: str('customer_id', 128),
    decidedAt: str('decided_at', 40),
    position: big('position'),
    code: str('code', 40),
    allowed: { name: 'allowed', type: 'integer' },
    record: { name: 'record', type: 'text' },
    seq: big('seq'),
  },
  indices: [
    { name: 'au_decisions_customer', columns: ['customerId', 'seq'] },
    { name: 'au_decisions_seq', columns: ['seq'], unique: true },
  ],
});

export class InitialAudit1766100000000 implements MigrationInterface {
  name = 'InitialAudit1766100000000';

  async up(q: QueryRunner): Promise<void> {
    const v = (name: string, length: number, extra: object = {}) => ({ name, type: 'varchar', length: String(length), ...extra });
    await q.createTable(
      new Table({
        name: 'au_leaves',
        columns: [
          { name: 'leaf_index', type: 'bigint', isPrimary: true },
          { name: 'position', type: 'bigint' },
          v('event_id', 256),
          v('stream', 512),
          { name: 'revision', type: 'bigint' },
          v('type', 256),
          { name: 'entry', type: 'text' },
          v('leaf_hash', 64),
          v('recorded_at', 64),
          v('effective_at', 64, { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'au_leaves_position', columnNames: ['position'], isUnique: true })],
      }),
    );
    await q.createTable(new Table({ name: 'au_refs', columns: [v('kind', 16, { isPrimary: true }), v('ref', 512, { isPrimary: true }), { name: 'leaf_index', type: 'bigint', isPrimary: true }] }));
    await q.createTable(new Table({ name: 'au_streams', columns: [v('stream', 512, { isPrimary: true }), v('customer_id', 256)] }));
    await q.createTable(
      new Table({
        name: 'au_tree_heads',
        columns: [
          { name: 'tree_size', type: 'bigint', isPrimary: true },
          v('root_hash', 64),
          { name: 'last_position', type: 'bigint' },
          v('timestamp', 32),
          v('kid', 128),
          v('signature', 128),
          { name: 'published', type: 'integer', default: 0 },
        ],
      }),
    );
    await q.createTable(new Table({ name: 'au_state', columns: [v('name', 300, { isPrimary: true }), v('value', 256)] }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['au_state', 'au_tree_heads', 'au_streams', 'au_refs', 'au_leaves']) await q.dropTable(t);
  }
}

export const AUDIT_SCHEMA: DatabaseSchema = {
  entities: [AuditLeafEntity, AuditRefEntity, AuditStreamEntity, TreeHeadEntity, AuditStateEntity, AuditDecisionEntity] as EntitySchema<any>[],
  migrations: [InitialAudit1766100000000, AuditDecisions1766200000000],
  migrationsTableName: 'au_migrations',
  migrationLock: 734_112_903,
};
