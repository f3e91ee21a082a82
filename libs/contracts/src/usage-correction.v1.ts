import { ID_SCHEMA, INSTANT_SCHEMA } from './schema-parts';

/**
 * `POST /v1/usage/corrections`: moves a meter's value for one period by a
 * quantity (negative takes usage back), with the reason and the raw usage
 * events it is about. The original events stay as they are; the correction is
 * an event of its own (who, why, when), shown beside them in the export.
 * `correctionId` is the idempotency key: a retry answers what was recorded,
 * the same id with another content is refused (USAGE.CORRECTION_ID_REUSED).
 */
export interface UsageCorrectionV1 {
  readonly correctionId: string;
  readonly customerId: string;
  readonly entitlementId: string;
  readonly feature: string;
  /** The start of the period to correct, exactly (as the usage API and the export show it)… */
  readonly periodStart?: string;
  /** …or any instant inside it. */
  readonly time?: string;
  /** Non-zero; added to the meter's value for the period. */
  readonly quantity: number;
  readonly reason: string;
  readonly corrects?: readonly { readonly source: string; readonly id: string }[];
}

/** Most raw events one correction may name. */
export const MAX_CORRECTED_EVENTS = 100;
/** Longest reason (it is kept in the immutable log). */
export const MAX_CORRECTION_REASON = 500;

const TEXT = (max: number) => ({ type: 'string', minLength: 1, maxLength: max, pattern: '^[\\x21-\\x7e]+$' }) as const;

export const usageCorrectionSchemaV1 = {
  $id: 'urn:entitlement-ledger:usage-correction:v1',
  type: 'object',
  additionalProperties: false,
  required: ['correctionId', 'customerId', 'entitlementId', 'feature', 'quantity', 'reason'],
  // The period by its start or by an instant in it: one of the two.
  oneOf: [{ required: ['periodStart'] }, { required: ['time'] }],
  properties: {
    correctionId: ID_SCHEMA,
    customerId: ID_SCHEMA,
    entitlementId: ID_SCHEMA,
    feature: { type: 'string', minLength: 1, maxLength: 128 },
    periodStart: INSTANT_SCHEMA,
    time: INSTANT_SCHEMA,
    quantity: { type: 'number', minimum: -1e12, maximum: 1e12, not: { const: 0 } },
    reason: { type: 'string', minLength: 1, maxLength: MAX_CORRECTION_REASON },
    corrects: {
      type: 'array',
      maxItems: MAX_CORRECTED_EVENTS,
      items: { type: 'object', additionalProperties: false, required: ['source', 'id'], properties: { source: TEXT(256), id: TEXT(256) } },
    },
  },
} as const;

/** The answer to a correction (also to its retries, with `replayed: true`). */
export interface UsageCorrectionResultV1 {
  readonly correctionId: string;
  readonly customerId: string;
  readonly entitlementId: string;
  readonly feature: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly quantity: number;
  /** The usage position the correction took: a check passing it as minUsagePosition sees it. */
  readonly position: number;
  /** Global position of the UsageCorrected event in the event store. */
  readonly eventPosition: number;
  readonly replayed: boolean;
}
