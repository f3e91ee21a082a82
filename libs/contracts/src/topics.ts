/** Kafka topics and what flows on them. Names carry their major version. */
export const TOPICS = {
  /** Every entitlement change, key = customerId, value = EntitlementEventV1 (CloudEvents JSON). */
  entitlements: 'ledger.entitlements.v1',
  /**
   * API key creations and revocations, key = keyId (compacted: the newest event
   * of each key), value = ApiKeyEventV1. Services without the event store (the
   * enforcement service) learn which credentials to accept from it.
   */
  apiKeys: 'ledger.api-keys.v1',
  /** Orders from the ERP, key = orderId, value = ErpOrderV1 JSON. */
  erpOrders: 'erp.orders.v1',
  /** ERP order messages that could not be applied, with the reason and the original bytes (DeadLetterV1). */
  erpOrdersDlq: 'erp.orders.v1.dlq',
  /** Usage reported by applications. */
  usage: 'metering.usage.v1',
  /** Usage events that can never be counted, with the reason and the original bytes (DeadLetterV1). */
  usageDlq: 'metering.usage.v1.dlq',
  /** Threshold and cap alerts from metering. */
  alerts: 'metering.alerts.v1',
  /**
   * Every customer's usage counters as the enforcement service needs them, key = customerId
   * (compacted: the newest state of each customer), value = UsageCountersV1.
   */
  usageCounters: 'metering.counters.v1',
  /**
   * Every stored event of every stream, in the log's global order (one partition),
   * key = stream, value = AuditRecordV1; kept forever. The audit service builds
   * its Merkle tree from it.
   */
  audit: 'ledger.audit.v1',
  /** The audit service's signed tree heads (SignedTreeHeadV1), in signing order (one partition); kept forever. */
  auditCheckpoints: 'ledger.audit.checkpoints.v1',
  /**
   * The enforcement service's decision log, key = customerId, value = DecisionRecordV1: every
   * denial and a sample of allows (DECISION_LOG_ALLOW_SAMPLE), each with what it was decided from
   * (request, instant, ledger position, catalog version, usage consulted), so the audit service
   * can keep it and replay any of them against the ledger's history.
   */
  decisions: 'enforcement.decisions.v1',
} as const;

/**
 * Logs whose order is the order of one sequence: created with one partition and
 * no time or size limit (retention.ms=-1), and refused when they exist with more
 * partitions.
 */
export const SINGLE_PARTITION_TOPICS: ReadonlySet<string> = new Set([TOPICS.audit, TOPICS.auditCheckpoints]);

/** Topics that keep the newest message of each key forever instead of expiring by age (cleanup.policy=compact). */
export const COMPACTED_TOPICS: ReadonlySet<string> = new Set([TOPICS.apiKeys, TOPICS.usageCounters]);

/** The CloudEvents `source` of events the ledger publishes. */
export const LEDGER_SOURCE = 'urn:entitlement-ledger:ledger';
