import type { Decision } from '@el/domain';
import { ID_SCHEMA } from './schema-parts';

/**
 * The enforcement API (`POST /v1/check`, `POST /v1/check/batch`): the request
 * and response shapes and their JSON Schemas. The service validates and
 * serializes with these schemas; the SDK calls the API with these types.
 */
export interface CheckRequestV1 {
  readonly customerId: string;
  readonly feature: string;
  readonly productId?: string;
  readonly userId?: string;
  readonly deviceId?: string;
  /** Region code of the caller, e.g. "EU". */
  readonly region?: string;
  /** Units about to be consumed or held; default 1. */
  readonly quantity?: number;
  /** The instant the check is about (ISO-8601); default now. */
  readonly at?: string;
  /** Wait (bounded) until the view includes this ledger position; otherwise answer with `stale: true`. */
  readonly minPosition?: number;
  /**
   * Read-your-usage: the `position` of a usage ingest (`POST /v1/usage`) of this same customer.
   * The check waits (bounded) until the usage counters it reads include it; otherwise `stale: true`.
   */
  readonly minUsagePosition?: number;
}

export interface CheckResponseV1 extends Decision {
  /**
   * The ledger position the decision was made at: the view held exactly the
   * changes up to it. With `catalogVersion`, the request and its instant, the
   * decision can be recomputed from the ledger's history.
   */
  readonly position: number;
  /** The catalog version in force at `position` (used for upgrade hints); null before the view has seen one. */
  readonly catalogVersion: number | null;
  /** True when `minPosition` was not reached within the wait: the decision may miss recent writes. */
  readonly stale: boolean;
}

export interface CheckBatchRequestV1 {
  /** Each check may carry its customer's `minUsagePosition`; `stale` is true when any of them (or `minPosition`) was not reached. */
  readonly checks: readonly Omit<CheckRequestV1, 'minPosition'>[];
  readonly minPosition?: number;
}

export interface CheckBatchResponseV1 {
  /** One position and catalog version for the whole batch (see CheckResponseV1). */
  readonly position: number;
  readonly catalogVersion: number | null;
  readonly stale: boolean;
  readonly results: readonly Decision[];
}

export const MAX_CHECK_BATCH = 1000;

const id = ID_SCHEMA;

/** The fields of one check (shared with the decision log's record of the request). */
export const checkProperties = {
  customerId: id,
  feature: { type: 'string', minLength: 1, maxLength: 200 },
  productId: id,
  userId: id,
  deviceId: id,
  region: { type: 'string', pattern: '^[A-Za-z0-9-]{1,32}$' },
  quantity: { type: 'number', exclusiveMinimum: 0, maximum: 1e15 },
  at: { type: 'string', format: 'date-time' },
} as const;

const minPosition = { type: 'integer', minimum: 0 } as const;

/** Read-your-usage, per check: positions of usage are per customer (see MIN_USAGE_POSITION_DOC). */
const minUsagePosition = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/** What `minUsagePosition` means, for the OpenAPI descriptions. */
export const MIN_USAGE_POSITION_DOC =
  'minUsagePosition (read-your-usage): the position a usage ingest answered (POST /v1/usage: the batch position, or the result position of an event) for THIS check\'s customer. ' +
  'The check waits, at most CHECK_MAX_WAIT_MS, until the usage counters it decides with include that customer\'s usage up to it; otherwise it answers stale: true. ' +
  'The position must come from an ingest of the same customer: usage positions are global, but the counters are followed per customer, so another customer\'s position may never be reached.';

export const checkRequestSchemaV1 = {
  $id: 'CheckRequestV1',
  type: 'object',
  required: ['customerId', 'feature'],
  additionalProperties: false,
  properties: { ...checkProperties, minPosition, minUsagePosition },
} as const;

export const checkBatchRequestSchemaV1 = {
  $id: 'CheckBatchRequestV1',
  type: 'object',
  required: ['checks'],
  additionalProperties: false,
  properties: {
    checks: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_CHECK_BATCH,
      items: { type: 'object', required: ['customerId', 'feature'], additionalProperties: false, properties: { ...checkProperties, minUsagePosition } },
    },
    minPosition,
  },
} as const;

const nullable = (type: 'string' | 'number') => ({ type: [type, 'null'] }) as const;

const position = { type: 'integer', description: 'The ledger position the decision was made at: the view held exactly the changes up to it (replay a decision with it, its request and its instant)' } as const;
const catalogVersion = { type: ['integer', 'null'], description: 'The catalog version in force at position, named by upgrade hints; null until the view has seen a published catalog (hints then come from the CATALOG_PATH file)' } as const;

/** A decision's fields (shared with the decision log). */
export const decisionProperties = {
  allowed: { type: 'boolean' },
  code: { type: 'string', description: 'OK, IN_GRACE, OVERAGE (allowed) or the denial: NO_ENTITLEMENT, REVOKED, SUSPENDED, NOT_YET_ACTIVE, EXPIRED, FEATURE_NOT_INCLUDED, REGION_BLOCKED, SEAT_NOT_ASSIGNED, DEVICE_LIMIT, USAGE_CAP_REACHED' },
  entitlementId: nullable('string'),
  remaining: nullable('number'),
  expiresAt: nullable('string'),
  upgradeHint: {
    type: ['object', 'null'],
    properties: { kind: { type: 'string' }, sku: { type: 'string' }, name: { type: 'string' }, productId: { type: 'string' } },
  },
  reason: { type: 'string' },
} as const;

export const decisionRequired = ['allowed', 'code', 'entitlementId', 'remaining', 'expiresAt', 'upgradeHint', 'reason'] as const;

export const checkResponseSchemaV1 = {
  $id: 'CheckResponseV1',
  type: 'object',
  required: [...decisionRequired, 'position', 'catalogVersion', 'stale'],
  properties: { ...decisionProperties, position, catalogVersion, stale: { type: 'boolean' } },
} as const;

export const checkBatchResponseSchemaV1 = {
  $id: 'CheckBatchResponseV1',
  type: 'object',
  required: ['position', 'catalogVersion', 'stale', 'results'],
  properties: {
    position,
    catalogVersion,
    stale: { type: 'boolean' },
    results: { type: 'array', items: { type: 'object', required: [...decisionRequired], properties: decisionProperties } },
  },
} as const;
