import { ORDER_EVENT_TYPES, type OrderFulfilled, type OrderReceived, type OrderRejected } from '@el/domain';
import { OrderEntity } from '../schema/entities';
import type { OrderRow } from '../schema/rows';
import type { Projection } from './projection';

/** Orders: what the ERP sent, and what became of it. */
export const orderProjection: Projection<OrderRow> = {
  name: 'orders',
  entity: OrderEntity,
  handles: ORDER_EVENT_TYPES,
  keyOf: (e) => (e.data as { orderId: string }).orderId,
  evolve(row, event) {
    const base = { lastRevision: event.revision, lastPosition: event.position };
    switch (event.type) {
      case 'OrderReceived': {
        const d = event.data as OrderReceived['data'];
        return {
          orderId: d.orderId,
          customerId: d.customerId,
          status: 'received',
          partial: 0,
          effectiveAt: d.effectiveAt,
          receivedAt: event.metadata.recordedAt ?? d.effectiveAt,
          catalogVersion: d.catalogVersion,
          lines: [...d.lines],
          results: null,
          rejection: null,
          entitlementIds: d.lines.map((l) => l.entitlementId).filter((id): id is string => Boolean(id)),
          ...base,
        };
      }
      case 'OrderRejected': {
        if (!row) return row;
        const { orderId: _id, ...rejection } = event.data as OrderRejected['data'];
        return { ...row, status: 'rejected', rejection, ...base };
      }
      case 'OrderFulfilled': {
        if (!row) return row;
        const d = event.data as OrderFulfilled['data'];
        return { ...row, status: 'fulfilled', results: [...d.lines], partial: d.partial ? 1 : 0, entitlementIds: [...new Set(d.lines.map((l) => l.entitlementId))], ...base };
      }
      default:
        return row;
    }
  },
};
