import type { DomainEvent, Command } from '../shared/envelope';
import type { PublishedCatalog } from '../catalog/catalog';

export type OrderAction = 'new' | 'renew' | 'upgrade' | 'downgrade' | 'add_on' | 'cancel';
export const ORDER_ACTIONS: readonly OrderAction[] = ['new', 'renew', 'upgrade', 'downgrade', 'add_on', 'cancel'];

export interface OrderLine {
  readonly lineId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly action: OrderAction;
  /** Required for every action but `new`, which creates the entitlement. */
  readonly entitlementId?: string;
}

/** An order as the ERP publishes it. */
export interface ErpOrder {
  readonly orderId: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
  readonly effectiveAt: string;
}

export interface OrderLineResult {
  readonly lineId: string;
  readonly action: OrderAction;
  readonly sku: string;
  readonly entitlementId: string;
  readonly status: 'fulfilled' | 'failed';
  /** Event types the line produced on the entitlement's stream (empty when it changed nothing). */
  readonly events: readonly string[];
  readonly code?: string;
  readonly message?: string;
}

export interface OrderRejection {
  readonly code: string;
  readonly message: string;
  readonly lineId?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type OrderReceived = DomainEvent<
  'OrderReceived',
  ErpOrder & { payloadHash: string; catalogVersion: number }
>;
export type OrderRejected = DomainEvent<'OrderRejected', { orderId: string } & OrderRejection>;
export type OrderFulfilled = DomainEvent<
  'OrderFulfilled',
  { orderId: string; customerId: string; lines: readonly OrderLineResult[]; partial: boolean }
>;
export type OrderEvent = OrderReceived | OrderRejected | OrderFulfilled;
export const ORDER_EVENT_TYPES: readonly OrderEvent['type'][] = ['OrderReceived', 'OrderRejected', 'OrderFulfilled'];

export type ReceiveOrder = Command<'ReceiveOrder', { order: ErpOrder; payloadHash: string; catalog: PublishedCatalog }>;
export type RejectOrder = Command<'RejectOrder', OrderRejection>;
export type CompleteOrder = Command<'CompleteOrder', { lines: readonly OrderLineResult[] }>;
export type OrderCommand = ReceiveOrder | RejectOrder | CompleteOrder;

interface Received {
  readonly order: ErpOrder;
  readonly payloadHash: string;
  readonly catalogVersion: number;
  readonly receivedAt: string;
}

export type OrderState =
  | { readonly status: 'none' }
  | (Received & { readonly status: 'received' })
  | (Received & { readonly status: 'fulfilled'; readonly lines: readonly OrderLineResult[]; readonly partial: boolean })
  | (Received & { readonly status: 'rejected'; readonly rejection: OrderRejection });

export const orderStream = (orderId: string): string => `order-${orderId}`;
