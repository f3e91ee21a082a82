import type { TopicMessageV1 } from './entitlements-topic.v1';
import { ID_SCHEMA } from './schema-parts';

/** One meter of one entitlement in its latest period with usage. */
export interface UsageCounterV1 {
  readonly entitlementId: string;
  readonly feature: string;
  /** Start of the period (anchored at the entitlement's start, UTC) this value counts. */
  readonly periodStart: string;
  readonly value: number;
}

/**
 * io.ledger.usage.counters.v1 on metering.counters.v1 (compacted, key =
 * customerId): a customer's counters as committed in the metering store, for
 * each entitlement and meter the latest period with usage.
 *
 * Every message is the customer's whole state, never a delta: with compaction
 * only the newest message of a key survives. `position` is the highest usage
 * position among the customer's counters (every period): positions are taken
 * under a row lock held until commit, so a state read later with a higher
 * position includes everything an earlier one did. A consumer keeps, per
 * customer, the message with the highest position and ignores older ones
 * (messages from several metering processes may arrive out of order).
 */
export interface UsageCountersV1 {
  readonly type: 'io.ledger.usage.counters.v1';
  /** `<customerId>:<position>`. */
  readonly id: string;
  readonly customerId: string;
  readonly position: number;
  readonly counters: readonly UsageCounterV1[];
  /** When the metering service read this state. */
  readonly time: string;
}

export const USAGE_COUNTERS_TYPE = 'io.ledger.usage.counters.v1';

/** At most this many counters in one message: a customer's entitlements times their meters. */
export const MAX_COUNTERS_PER_CUSTOMER = 10_000;

export const usageCountersSchemaV1 = {
  $id: 'UsageCountersV1',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'id', 'customerId', 'position', 'counters', 'time'],
  properties: {
    type: { const: USAGE_COUNTERS_TYPE },
    id: { type: 'string', minLength: 3, maxLength: 160 },
    customerId: ID_SCHEMA,
    position: { type: 'integer', minimum: 1 },
    counters: {
      type: 'array',
      maxItems: MAX_COUNTERS_PER_CUSTOMER,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['entitlementId', 'feature', 'periodStart', 'value'],
        properties: {
          entitlementId: ID_SCHEMA,
          feature: { type: 'string', minLength: 1, maxLength: 128 },
          periodStart: { type: 'string', minLength: 20, maxLength: 40 },
          value: { type: 'number' },
        },
      },
    },
    time: { type: 'string', minLength: 20, maxLength: 40 },
  },
} as const;

export function usageCountersV1(customerId: string, position: number, counters: readonly UsageCounterV1[], time: string): UsageCountersV1 {
  return { type: USAGE_COUNTERS_TYPE, id: `${customerId}:${position}`, customerId, position, counters, time };
}

export function usageCountersMessageV1(value: UsageCountersV1): TopicMessageV1<UsageCountersV1> {
  return { key: value.customerId, id: value.id, value, headers: { 'content-type': 'application/json', ce_id: value.id, ce_type: value.type } };
}
