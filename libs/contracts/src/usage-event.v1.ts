import { ID_SCHEMA } from './schema-parts';

/**
 * A usage event (CloudEvents 1.0 shape): `POST /v1/usage` takes batches of
 * them, `metering.usage.v1` carries one per message. (`source`, `id`) is the
 * event's identity: it has exactly one effect, however often it is sent.
 */
export interface UsageEventV1 {
  readonly specversion?: '1.0';
  /** Unique within `source`; the SDK generates one per report. */
  readonly id: string;
  /** Who reports, e.g. `urn:app:analytics:eu-1`. */
  readonly source: string;
  /** e.g. `io.ledger.usage.v1` (free text, up to 128 characters). */
  readonly type: string;
  /** The customer. */
  readonly subject: string;
  /** When the usage happened (ISO-8601). */
  readonly time: string;
  readonly datacontenttype?: 'application/json';
  readonly data: {
    readonly feature: string;
    readonly quantity: number;
    readonly entitlementId?: string;
    readonly userId?: string;
    readonly deviceId?: string;
  };
}

const TEXT = (max: number) => ({ type: 'string', minLength: 1, maxLength: max, pattern: '^[\\x21-\\x7e]+$' }) as const;

export const usageEventSchemaV1 = {
  $id: 'urn:entitlement-ledger:usage-event:v1',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'source', 'type', 'subject', 'time', 'data'],
  properties: {
    specversion: { const: '1.0' },
    id: TEXT(256),
    source: TEXT(256),
    type: TEXT(128),
    subject: ID_SCHEMA,
    time: { type: 'string', format: 'date-time', maxLength: 40 },
    datacontenttype: { const: 'application/json' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['feature', 'quantity'],
      properties: {
        feature: { type: 'string', minLength: 1, maxLength: 128 },
        quantity: { type: 'number', minimum: 0, maximum: 1e12 },
        entitlementId: ID_SCHEMA,
        userId: ID_SCHEMA,
        deviceId: ID_SCHEMA,
      },
    },
  },
} as const;

export const usageBatchSchemaV1 = {
  $id: 'urn:entitlement-ledger:usage-batch:v1',
  type: 'object',
  additionalProperties: false,
  required: ['events'],
  properties: { events: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object' } } },
} as const;

/** What happened to one event of a batch. */
export interface UsageResultV1 {
  readonly source: string | null;
  readonly id: string | null;
  /** accepted: counted now; duplicate: counted before (same payload), nothing changed; rejected: not counted, see code. */
  readonly status: 'accepted' | 'duplicate' | 'rejected';
  readonly code?: string;
  readonly reason?: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  /** The usage position of the event (pass as minUsagePosition to a check to see it). */
  readonly position?: number;
  readonly entitlementId?: string;
}
