import { resolveSku, type Catalog } from '../catalog/catalog';
import { assertNever, envelope } from '../shared/envelope';
import { reject } from '../shared/errors';
import type { OrderCommand, OrderEvent, OrderRejection, OrderState, ErpOrder } from './order';

export const initialOrderState: OrderState = { status: 'none' };

/**
 * An order is received once. Receiving the same order again with the same
 * payload changes nothing (the caller answers with the recorded outcome);
 * with a different payload it is rejected. Lines that cannot be valid against
 * the catalog reject the whole order before any entitlement changes.
 */
export function decideOrder(command: OrderCommand, state: OrderState): OrderEvent[] {
  const metadata = envelope(command.metadata);
  switch (command.type) {
    case 'ReceiveOrder': {
      const { order, payloadHash, catalog } = command.data;
      if (state.status !== 'none') {
        if (state.payloadHash === payloadHash) return [];
        return reject(
          'ORDER.PAYLOAD_MISMATCH',
          `order ${order.orderId} was already received with a different payload; use a new orderId for a new order`,
          { orderId: order.orderId, receivedAt: state.receivedAt },
        );
      }
      const received: OrderEvent = {
        type: 'OrderReceived',
        data: { ...order, payloadHash, catalogVersion: catalog.version },
        metadata,
      };
      const problem = validateOrderLines(order, catalog.catalog);
      if (problem) return [received, { type: 'OrderRejected', data: { orderId: order.orderId, ...problem }, metadata }];
      return [received];
    }
    case 'RejectOrder': {
      if (state.status === 'none') return reject('ORDER.NOT_RECEIVED', 'order has not been received');
      if (state.status !== 'received') return reject('ORDER.ALREADY_COMPLETED', `order is already ${state.status}`);
      return [{ type: 'OrderRejected', data: { orderId: state.order.orderId, ...command.data }, metadata }];
    }
    case 'CompleteOrder': {
      if (state.status === 'none') return reject('ORDER.NOT_RECEIVED', 'order has not been received');
      if (state.status !== 'received') return reject('ORDER.ALREADY_COMPLETED', `order is already ${state.status}`);
      const lines = command.data.lines;
      return [
        {
          type: 'OrderFulfilled',
          data: {
            orderId: state.order.orderId,
            customerId: state.order.customerId,
            lines,
            partial: lines.some((l) => l.status === 'failed'),
          },
          metadata,
        },
      ];
    }
    default:
      return assertNever(command, 'order command');
  }
}

export function evolveOrder(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderReceived': {
      const { payloadHash, catalogVersion, ...order } = event.data;
      return { status: 'received', order, payloadHash, catalogVersion, receivedAt: event.metadata.recordedAt };
    }
    case 'OrderRejected': {
      if (state.status === 'none') return state;
      const { orderId: _id, ...rejection } = event.data;
      return { ...state, status: 'rejected', rejection };
    }
    case 'OrderFulfilled':
      if (state.status === 'none') return state;
      return { ...state, status: 'fulfilled', lines: event.data.lines, partial: event.data.partial };
    default:
      return assertNever(event, 'order event');
  }
}

export const orderDecider = { decide: decideOrder, evolve: evolveOrder, initialState: (): OrderState => initialOrderState };

/** Checks what can be checked without the entitlements themselves. */
function validateOrderLines(order: ErpOrder, catalog: Catalog): OrderRejection | null {
  const seen = new Set<string>();
  for (const line of order.lines) {
    const bad = (message: string, details: Record<string, unknown> = {}): OrderRejection => ({
      code: 'ORDER.INVALID_LINE',
      message: `line ${line.lineId}: ${message}`,
      lineId: line.lineId,
      details: { sku: line.sku, action: line.action, ...details },
    });
    if (seen.has(line.lineId)) return bad('lineId is used twice in the order');
    seen.add(line.lineId);
    if (!Number.isInteger(line.quantity) || line.quantity < 1) return bad(`quantity must be an integer >= 1, got ${line.quantity}`);
    const resolved = resolveSku(catalog, line.sku);
    if (!resolved) return { ...bad(`SKU ${line.sku} is not in the catalog`), code: 'CATALOG.UNKNOWN_SKU' };
    if (line.action === 'new') {
      if (line.entitlementId !== undefined) return bad('a "new" line creates its entitlement and must not name one');
    } else if (!line.entitlementId) {
      return bad(`a "${line.action}" line must name the entitlementId it changes`);
    }
    const needsPlan = ['new', 'renew', 'upgrade', 'downgrade'].includes(line.action);
    if (needsPlan && resolved.kind !== 'plan') {
      return { ...bad(`SKU ${line.sku} is an add-on; "${line.action}" needs a plan SKU`), code: 'CATALOG.NOT_A_PLAN' };
    }
    if (line.action === 'add_on' && resolved.kind !== 'add_on') {
      return { ...bad(`SKU ${line.sku} is a plan; "add_on" needs an add-on SKU`), code: 'CATALOG.NOT_AN_ADD_ON' };
    }
  }
  return null;
}

export function foldOrder(events: readonly OrderEvent[]): OrderState {
  return events.reduce(evolveOrder, initialOrderState);
}
