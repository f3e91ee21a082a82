import type { Decision, MeterPeriod } from '@el/domain';
import type { TopicMessageV1 } from './entitlements-topic.v1';
import { ID_SCHEMA, MESSAGE_INSTANT_SCHEMA } from './schema-parts';
import { checkProperties, decisionProperties, decisionRequired, type CheckRequestV1 } from './check-api.v1';

/**
 * io.ledger.enforcement.decision.v1 on enforcement.decisions.v1 (key =
 * customerId): one decision of the enforcement service and everything it was
 * decided from, so that it can be recomputed later from the ledger's history
 * and compared with what was answered:
 *
 * - `request`: the check as received (without its read-your-writes waits);
 * - `atMs`/`at`: the instant the decision is about (the request's `at`, else
 *   the clock when it was decided); `decidedAt`: the clock when it was decided;
 * - `position`: the ledger position of the view it was decided against — the
 *   view holds exactly the changes up to it — and `catalogVersion`, the catalog
 *   version in force there (null: none had reached the view, upgrade hints came
 *   from the service's CATALOG_PATH file);
 * - `usage`: every usage value the decision consulted (per entitlement, feature
 *   and meter period). Usage counters are not ledger history; a replay feeds
 *   these values back instead of reading them.
 */
export interface DecisionRecordV1 {
  readonly type: 'io.ledger.enforcement.decision.v1';
  /** Unique per decision. */
  readonly id: string;
  readonly request: DecisionRequestV1;
  readonly atMs: number;
  readonly at: string;
  readonly decidedAt: string;
  readonly decision: Decision;
  readonly position: number;
  readonly catalogVersion: number | null;
  /** The check asked for a position (minPosition, minUsagePosition) the service had not reached in time. */
  readonly stale: boolean;
  readonly usage: readonly DecisionUsageV1[];
}

/** The check as received, without its read-your-writes waits (they do not change a decision, only when it is made). */
export type DecisionRequestV1 = Omit<CheckRequestV1, 'minPosition' | 'minUsagePosition'>;

/** One usage value a decision read: the metered usage of `feature` on `entitlementId` in the `period` that contains the decision's instant. */
export interface DecisionUsageV1 {
  readonly entitlementId: string;
  readonly feature: string;
  readonly period: MeterPeriod | null;
  readonly value: number;
}

export const DECISION_RECORD_TYPE = 'io.ledger.enforcement.decision.v1';

export function decisionRecordV1(fields: Omit<DecisionRecordV1, 'type'>): DecisionRecordV1 {
  return { type: DECISION_RECORD_TYPE, ...fields };
}

export function decisionRecordMessageV1(record: DecisionRecordV1): TopicMessageV1<DecisionRecordV1> {
  return { key: record.request.customerId, id: record.id, value: record, headers: { 'content-type': 'application/json', ce_id: record.id, ce_type: record.type } };
}

const instant = MESSAGE_INSTANT_SCHEMA;

export const decisionRecordSchemaV1 = {
  $id: 'DecisionRecordV1',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'id', 'request', 'atMs', 'at', 'decidedAt', 'decision', 'position', 'catalogVersion', 'stale', 'usage'],
  properties: {
    type: { const: DECISION_RECORD_TYPE },
    id: { type: 'string', minLength: 1, maxLength: 128 },
    request: { type: 'object', additionalProperties: false, required: ['customerId', 'feature'], properties: checkProperties },
    atMs: { type: 'integer' },
    at: instant,
    decidedAt: instant,
    decision: { type: 'object', additionalProperties: false, required: [...decisionRequired], properties: decisionProperties },
    position: { type: 'integer', minimum: 0 },
    catalogVersion: { type: ['integer', 'null'], minimum: 1 },
    stale: { type: 'boolean' },
    usage: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['entitlementId', 'feature', 'period', 'value'],
        properties: { entitlementId: ID_SCHEMA, feature: { type: 'string', minLength: 1, maxLength: 200 }, period: { enum: ['day', 'month', 'year', null] }, value: { type: 'number' } },
      },
    },
  },
} as const;
