import { ORDER_ACTIONS, type OrderAction } from '@el/domain';
import { ID_SCHEMA, INSTANT_SCHEMA, SKU_SCHEMA } from './schema-parts';

/**
 * erp.orders.v1 — an order as the ERP publishes it (key = orderId), and the
 * body of POST /v1/orders: one shape, defined once by `erpOrderSchemaV1`,
 * which validates both. Applied once per orderId.
 */
export interface ErpOrderV1 {
  readonly orderId: string;
  readonly customerId: string;
  /** ISO-8601 instant; defaults to when the ledger receives the order. */
  readonly effectiveAt?: string;
  readonly lines: readonly ErpOrderLineV1[];
}

export interface ErpOrderLineV1 {
  readonly lineId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly action: OrderAction;
  /** The entitlement the line changes; required for every action but `new`. */
  readonly entitlementId?: string;
}

export const MAX_ORDER_LINES = 500;
export const MAX_ORDER_QUANTITY = 1_000_000;

export const erpOrderSchemaV1 = {
  $id: 'ErpOrderV1',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'customerId', 'lines'],
  properties: {
    orderId: { ...ID_SCHEMA, description: "The ERP's order id: the order is applied once per id", example: 'SO-2026-0001' },
    customerId: { ...ID_SCHEMA, example: 'cust-42' },
    effectiveAt: { ...INSTANT_SCHEMA, description: 'When the order takes effect; defaults to when it is received', example: '2026-12-01T00:00:00Z' },
    lines: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ORDER_LINES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['lineId', 'sku', 'quantity', 'action'],
        properties: {
          lineId: { ...ID_SCHEMA, example: '10' },
          sku: { ...SKU_SCHEMA, example: 'ANL-PRO' },
          quantity: { type: 'integer', minimum: 1, maximum: MAX_ORDER_QUANTITY, example: 5 },
          action: { type: 'string', enum: [...ORDER_ACTIONS] },
          entitlementId: { ...ID_SCHEMA, description: 'The entitlement the line changes; required for every action but new' },
        },
      },
    },
  },
} as const;
