/** Kafka topics and what flows on them. Names carry their major version. */
export const TOPICS = {
  /** Every entitlement change, key = customerId, value = EntitlementEventV1 (CloudEvents JSON). */
  entitlements: 'ledger.entitlements.v1',
  /** Orders from the ERP, key = orderId, value = ErpOrderV1 JSON. */
  erpOrders: 'erp.orders.v1',
  /** ERP order messages that could not be applied, with the reason and the original bytes (DeadLetterV1). */
  erpOrdersDlq: 'erp.orders.v1.dlq',
  /** Usage reported by applications. */
  usage: 'metering.usage.v1',
  /** Threshold and cap alerts from metering. */
  alerts: 'metering.alerts.v1',
} as const;

/** The CloudEvents `source` of events the ledger publishes. */
export const LEDGER_SOURCE = 'urn:entitlement-ledger:ledger';
