import { CATALOG_PUBLISHED_TYPE, catalogPublishedV1, type CatalogPublishedV1, type StoredCatalogPublished } from './catalog-published.v1';
import { ENTITLEMENT_EVENT_TYPES_V1, type EntitlementEventV1 } from './entitlement-event.v1';
import { ID_SCHEMA, MESSAGE_INSTANT_SCHEMA } from './schema-parts';
import { WATERMARK_TYPE, watermarkV1, type WatermarkV1 } from './watermark.v1';

/**
 * Everything that travels on ledger.entitlements.v1, message by message:
 *
 * | message            | key                 | headers                                                        | value                         |
 * |--------------------|---------------------|----------------------------------------------------------------|-------------------------------|
 * | entitlement change | customerId          | `ce_id`, `ce_type` (io.ledger.entitlement.*.v1), content-type  | `EntitlementEventV1`          |
 * | watermark          | `"watermark"`       | `ce_id`, `ce_type` (io.ledger.watermark.v1), content-type, **`ledger_control: watermark`** | `WatermarkV1` |
 * | catalog version    | `"catalog"`         | `ce_id`, `ce_type` (io.ledger.catalog.published.v1), content-type, **`ledger_control: catalog`** | `CatalogPublishedV1` |
 *
 * The relay adds `ledger_installation` (INSTALLATION_HEADER) to each of them.
 *
 * Watermarks and catalog versions go to every partition. A control message
 * always carries the `ledger_control` header: a consumer that only wants
 * entitlement changes skips every message that has it, without parsing the
 * value. The relay (Kafka) and the in-process bus build every kind with the
 * functions below, so they publish the same messages.
 */
export const CONTROL_HEADER = 'ledger_control';
/**
 * On every message the relay publishes on ledger.entitlements.v1: the installation it comes
 * from (derived from the first event of its event store). A view reads one installation's messages;
 * another's, on a topic two installations share by mistake, are skipped (KAFKA_TOPIC_PREFIX keeps
 * installations apart).
 */
export const INSTALLATION_HEADER = 'ledger_installation';
export const WATERMARK_KEY = 'watermark';
export const CATALOG_KEY = 'catalog';

export interface TopicMessageV1<V> {
  readonly key: string;
  readonly id: string;
  readonly value: V;
  readonly headers: Readonly<Record<string, string>>;
  /** Watermarks go to every partition explicitly; changes to their key's. */
  readonly partition?: number;
}

/** An entitlement change as it is published: keyed by customer. */
export function entitlementMessageV1(value: EntitlementEventV1): TopicMessageV1<EntitlementEventV1> {
  return { key: value.customerid, id: value.id, value, headers: { 'content-type': 'application/cloudevents+json', ce_id: value.id, ce_type: value.type } };
}

/** A control message (a watermark, a catalog version) sent to one partition, marked by its control header. */
function controlMessage<V extends { readonly id: string }>(key: string, value: V, partition: number, type: string, control: string): TopicMessageV1<V> {
  return { key, id: value.id, value, partition, headers: { 'content-type': 'application/cloudevents+json', ce_id: value.id, ce_type: type, [CONTROL_HEADER]: control } };
}

/** The watermark published on `partition` after a batch (see watermark.v1). */
export function watermarkMessageV1(position: number, partition: number, partitions: number, time: string, installation?: string): TopicMessageV1<WatermarkV1> {
  return controlMessage(WATERMARK_KEY, watermarkV1(position, partition, partitions, time, installation), partition, WATERMARK_TYPE, 'watermark');
}

/** A catalog version as published on `partition` (one message per partition, see catalog-published.v1). */
export function catalogMessageV1(stored: StoredCatalogPublished, partition: number): TopicMessageV1<CatalogPublishedV1> {
  return controlMessage(CATALOG_KEY, catalogPublishedV1(stored, partition), partition, CATALOG_PUBLISHED_TYPE, 'catalog');
}

/** True for control messages (watermarks, catalog versions): consumers of entitlement changes skip them by this header alone. */
export function isControlMessage(headers: Readonly<Record<string, string | undefined>>): boolean {
  return headers[CONTROL_HEADER] !== undefined;
}

const instant = MESSAGE_INSTANT_SCHEMA;
const nullable = <T extends object>(schema: T) => ({ anyOf: [schema, { type: 'null' }] }) as const;
const meter = {
  type: 'object',
  additionalProperties: false,
  required: ['period', 'cap', 'capType'],
  properties: {
    period: { type: 'string' },
    cap: { type: 'number' },
    capType: { enum: ['hard', 'soft'] },
    aggregation: { enum: ['sum', 'count', 'max', 'unique_count'] },
    of: { enum: ['userId', 'deviceId'] },
  },
} as const;

/** JSON Schema of `EntitlementV1`: the full state of an entitlement after a change. */
export const entitlementSchemaV1 = {
  $id: 'EntitlementV1',
  type: 'object',
  additionalProperties: false,
  required: [
    'entitlementId', 'customerId', 'productId', 'planId', 'planSku', 'tier', 'catalogVersion', 'status', 'statusReason', 'seats', 'assignedUsers',
    'devices', 'deviceLimit', 'validFrom', 'validUntil', 'graceDays', 'graceEndsAt', 'regions', 'features', 'addOns', 'revision',
  ],
  properties: {
    entitlementId: ID_SCHEMA,
    customerId: ID_SCHEMA,
    productId: { type: 'string', minLength: 1 },
    planId: { type: 'string', minLength: 1 },
    planSku: { type: 'string', minLength: 1 },
    tier: { type: 'integer', minimum: 0 },
    catalogVersion: { type: 'integer', minimum: 1 },
    status: { enum: ['active', 'suspended', 'expired', 'revoked'] },
    statusReason: nullable({ type: 'string' }),
    seats: { type: 'integer', minimum: 1 },
    assignedUsers: { type: 'array', items: ID_SCHEMA },
    devices: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['deviceId', 'userId'], properties: { deviceId: ID_SCHEMA, userId: nullable(ID_SCHEMA) } },
    },
    deviceLimit: nullable({ type: 'integer', minimum: 0 }),
    validFrom: instant,
    validUntil: nullable(instant),
    graceDays: { type: 'integer', minimum: 0 },
    graceEndsAt: nullable(instant),
    regions: nullable({ type: 'array', items: { type: 'string' } }),
    features: {
      type: 'object',
      additionalProperties: { type: 'object', additionalProperties: false, properties: { limit: { type: 'number' }, meter } },
    },
    addOns: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['sku', 'quantity'], properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } } },
    },
    revision: { type: 'integer', minimum: 0 },
  },
} as const;

/** JSON Schema of the value of an entitlement change on ledger.entitlements.v1 (`EntitlementEventV1`, CloudEvents 1.0). */
export const entitlementEventSchemaV1 = {
  $id: 'EntitlementEventV1',
  type: 'object',
  additionalProperties: false,
  required: ['specversion', 'id', 'type', 'source', 'subject', 'time', 'datacontenttype', 'position', 'customerid', 'correlationid', 'data'],
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', minLength: 1 },
    type: { enum: Object.values(ENTITLEMENT_EVENT_TYPES_V1) },
    source: { type: 'string', minLength: 1 },
    subject: ID_SCHEMA,
    time: instant,
    datacontenttype: { const: 'application/json' },
    position: { type: 'integer', minimum: 1 },
    customerid: ID_SCHEMA,
    correlationid: nullable({ type: 'string' }),
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['entitlement', 'change', 'effectiveAt', 'actor', 'origin'],
      properties: {
        entitlement: entitlementSchemaV1,
        change: { type: 'object' },
        effectiveAt: instant,
        actor: { type: 'object', additionalProperties: false, required: ['type', 'id'], properties: { type: { type: 'string' }, id: { type: 'string' } } },
        origin: { enum: ['erp', 'api', 'portal', 'system'] },
      },
    },
  },
} as const;

/** The CloudEvents envelope of a control message on ledger.entitlements.v1 (a watermark, a catalog version) around its `data` schema. */
function controlMessageSchema<Id extends string, D extends object>($id: Id, idPattern: string, type: string, subject: string, data: D) {
  return {
    $id,
    type: 'object',
    additionalProperties: false,
    required: ['specversion', 'id', 'type', 'source', 'subject', 'time', 'datacontenttype', 'position', 'data'],
    properties: {
      specversion: { const: '1.0' },
      id: { type: 'string', pattern: idPattern },
      type: { const: type },
      source: { type: 'string', minLength: 1 },
      subject: { const: subject },
      time: instant,
      datacontenttype: { const: 'application/json' },
      position: { type: 'integer', minimum: 1 },
      data,
    },
  } as const;
}

/** JSON Schema of the value of a watermark on ledger.entitlements.v1 (`WatermarkV1`). */
export const watermarkSchemaV1 = controlMessageSchema('WatermarkV1', '^watermark:\\d+:\\d+$', WATERMARK_TYPE, 'ledger', {
  type: 'object',
  additionalProperties: false,
  required: ['position', 'partition', 'partitions'],
  properties: { position: { type: 'integer', minimum: 1 }, partition: { type: 'integer', minimum: 0 }, partitions: { type: 'integer', minimum: 1 }, installation: { type: 'string', minLength: 1, maxLength: 100 } },
} as const);

/** JSON Schema of the value of a catalog version on ledger.entitlements.v1 (`CatalogPublishedV1`). The catalog itself is validated by the ledger when it is published. */
export const catalogPublishedSchemaV1 = controlMessageSchema('CatalogPublishedV1', '^catalog:\\d+:\\d+$', CATALOG_PUBLISHED_TYPE, 'catalog', {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'hash', 'label', 'catalog'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    hash: { type: 'string', minLength: 1 },
    label: { type: 'string' },
    catalog: { type: 'object', required: ['label', 'products', 'addOns'], properties: { label: { type: 'string' }, products: { type: 'array' }, addOns: { type: 'array' } } },
  },
} as const);
