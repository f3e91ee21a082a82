/**
 * The audit feed (ledger.audit.v1) and the audit service's signed tree heads
 * (ledger.audit.checkpoints.v1).
 *
 * An AuditRecordV1 is one stored event exactly as the event store holds it,
 * with its global position: full fidelity, no mapping. The audit service's
 * Merkle leaf is computed from the six fields `position, stream, revision,
 * type, data, metadata` (see libs/audit-service/README.md); `id` and
 * `recordedAt` travel along for queries.
 */
export interface AuditRecordV1 {
  readonly type: 'io.ledger.audit.record.v1';
  /** The stored event's id. */
  readonly id: string;
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
  /** The stored event's type (EntitlementGranted, OrderReceived, …). */
  readonly eventType: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** When the event store committed it. */
  readonly recordedAt: string;
}

export const AUDIT_RECORD_TYPE = 'io.ledger.audit.record.v1';

/** The fields of a stored event the audit record carries (structurally the event store's RecordedEvent). */
export interface StoredEventFields {
  readonly id: string;
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly recordedAt: string;
}

export function auditRecordV1(e: StoredEventFields): AuditRecordV1 {
  return { type: AUDIT_RECORD_TYPE, id: e.id, position: e.position, stream: e.stream, revision: e.revision, eventType: e.type, data: e.data, metadata: e.metadata, recordedAt: e.recordedAt };
}

/** The audit feed's message for a stored event: one partition, key = stream, id = the event's id. */
export function auditMessageV1(e: StoredEventFields): { key: string; id: string; value: AuditRecordV1; partition: 0; headers: Record<string, string> } {
  return { key: e.stream, id: `audit:${e.id}`, value: auditRecordV1(e), partition: 0, headers: { ce_type: AUDIT_RECORD_TYPE } };
}

export const auditRecordSchemaV1 = {
  $id: 'AuditRecordV1',
  type: 'object',
  required: ['type', 'id', 'position', 'stream', 'revision', 'eventType', 'data', 'metadata', 'recordedAt'],
  properties: {
    type: { const: AUDIT_RECORD_TYPE },
    id: { type: 'string', minLength: 1, maxLength: 256 },
    position: { type: 'integer', minimum: 1 },
    stream: { type: 'string', minLength: 1, maxLength: 512 },
    revision: { type: 'integer', minimum: 0 },
    eventType: { type: 'string', minLength: 1, maxLength: 256 },
    data: {},
    metadata: { type: 'object' },
    recordedAt: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

/**
 * A signed tree head: the audit service's commitment that the first
 * `treeSize` events of the log (up to `lastPosition`) have the Merkle root
 * `rootHash`. The Ed25519 signature (base64url, by the key `kid` published in
 * the JWKS with use "audit") is over the UTF-8 bytes of the RFC 8785
 * canonical JSON of `{kid, lastPosition, rootHash, timestamp, treeSize, version}`
 * (see signedTreeHeadMessage in libs/audit-service).
 */
export interface SignedTreeHeadV1 {
  readonly version: 'el-sth/1';
  readonly treeSize: number;
  /** Lowercase hex SHA-256. */
  readonly rootHash: string;
  /** Position of the tree's last event (0 for the empty tree). */
  readonly lastPosition: number;
  /** ISO-8601 UTC, when it was signed. */
  readonly timestamp: string;
  readonly kid: string;
  /** Base64url Ed25519 signature. */
  readonly signature: string;
}

export const SIGNED_TREE_HEAD_VERSION = 'el-sth/1';

export const signedTreeHeadSchemaV1 = {
  $id: 'SignedTreeHeadV1',
  type: 'object',
  required: ['version', 'treeSize', 'rootHash', 'lastPosition', 'timestamp', 'kid', 'signature'],
  additionalProperties: false,
  properties: {
    version: { const: SIGNED_TREE_HEAD_VERSION },
    treeSize: { type: 'integer', minimum: 0 },
    rootHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    lastPosition: { type: 'integer', minimum: 0 },
    timestamp: { type: 'string', format: 'date-time' },
    kid: { type: 'string', minLength: 1, maxLength: 128 },
    signature: { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$' },
  },
} as const;
