import { ORDER_ACTIONS, type OrderAction } from '@el/domain';

/**
 * erp.orders.v1 — an order as the ERP publishes it (key = orderId). The same
 * shape as POST /v1/orders. Applied once per orderId.
 */
export interface ErpOrderV1 {
  readonly orderId: string;
  readonly customerId: string;
  /** ISO-8601; defaults to when the ledger receives it. */
  readonly effectiveAt?: string;
  readonly lines: readonly {
    readonly lineId: string;
    readonly sku: string;
    readonly quantity: number;
    readonly action: OrderAction;
    readonly entitlementId?: string;
  }[];
}

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: 'MESSAGE.UNPARSEABLE' | 'MESSAGE.INVALID'; readonly message: string; readonly errors: readonly FieldProblem[] };

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const ALLOWED = ['orderId', 'customerId', 'effectiveAt', 'lines'];
const LINE_ALLOWED = ['lineId', 'sku', 'quantity', 'action', 'entitlementId'];

/** Parses and validates the bytes of an erp.orders.v1 message; every problem names its path. */
export function parseErpOrderV1(bytes: Uint8Array | string | null): ParseResult<ErpOrderV1> {
  if (bytes === null || bytes.length === 0) return { ok: false, code: 'MESSAGE.UNPARSEABLE', message: 'the message has no value', errors: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    return { ok: false, code: 'MESSAGE.UNPARSEABLE', message: `not JSON: ${(err as Error).message}`, errors: [] };
  }
  const errors: FieldProblem[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, code: 'MESSAGE.INVALID', message: 'the order must be a JSON object', errors: [{ path: '', message: 'must be an object' }] };
  }
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!ALLOWED.includes(k)) fail(k, 'is not a field of ErpOrderV1');
  for (const k of ['orderId', 'customerId'] as const) {
    if (typeof o[k] !== 'string' || !ID.test(o[k] as string)) fail(k, 'must be 1-128 characters: letters, digits and . _ : @ -');
  }
  if (o['effectiveAt'] !== undefined && (typeof o['effectiveAt'] !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(o['effectiveAt']) || Number.isNaN(Date.parse(o['effectiveAt'])))) {
    fail('effectiveAt', 'must be an ISO-8601 instant');
  }
  if (!Array.isArray(o['lines']) || o['lines'].length === 0 || o['lines'].length > 500) {
    fail('lines', 'must be a list of 1 to 500 lines');
  } else {
    o['lines'].forEach((raw, i) => {
      const p = `lines[${i}]`;
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return void fail(p, 'must be an object');
      const l = raw as Record<string, unknown>;
      for (const k of Object.keys(l)) if (!LINE_ALLOWED.includes(k)) fail(`${p}.${k}`, 'is not a field of an order line');
      if (typeof l['lineId'] !== 'string' || !ID.test(l['lineId'])) fail(`${p}.lineId`, 'must be 1-128 characters: letters, digits and . _ : @ -');
      if (typeof l['sku'] !== 'string' || l['sku'].length === 0) fail(`${p}.sku`, 'must be a non-empty string');
      if (typeof l['quantity'] !== 'number' || !Number.isInteger(l['quantity']) || l['quantity'] < 1 || l['quantity'] > 1_000_000) fail(`${p}.quantity`, 'must be an integer from 1 to 1000000');
      if (!(ORDER_ACTIONS as readonly unknown[]).includes(l['action'])) fail(`${p}.action`, `must be one of ${ORDER_ACTIONS.join(', ')}`);
      if (l['entitlementId'] !== undefined && (typeof l['entitlementId'] !== 'string' || !ID.test(l['entitlementId']))) fail(`${p}.entitlementId`, 'must be 1-128 characters: letters, digits and . _ : @ -');
    });
  }
  if (errors.length > 0) return { ok: false, code: 'MESSAGE.INVALID', message: errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors };
  return { ok: true, value: o as unknown as ErpOrderV1 };
}
