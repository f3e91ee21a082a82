import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { decideEntitlement, decideOrder, evolveEntitlement, evolveOrder, formatCatalogIssues, initialEntitlementState, initialOrderState, parseCatalog, type CommandMetadata, type DomainEvent, type PublishedCatalog } from '@el/domain';
import type { EventStore, EventToAppend } from '@el/event-store';

const root = join(__dirname, '..', '..', '..', '..');
const parsed = parseCatalog(parse(readFileSync(join(root, 'catalog', 'sample-catalog.yaml'), 'utf8')));
if (!parsed.ok) throw new Error(`sample catalog invalid:\n${formatCatalogIssues(parsed.issues)}`);
export const benchCatalog: PublishedCatalog = { version: 1, hash: 'bench', catalog: parsed.catalog };

const SKUS = ['ANL-PRO', 'ANL-ENT', 'DSG-PRO', 'VLT-PRO'];

function meta(): CommandMetadata {
  const now = new Date().toISOString();
  return { now, correlationId: randomUUID(), causationId: randomUUID(), actor: { type: 'erp', id: 'bench' }, source: 'erp' };
}

const wire = (events: readonly DomainEvent[]): EventToAppend[] =>
  events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> }));

/**
 * One order as the ledger writes it: OrderReceived, then the entitlement's
 * grant with seat assignments (and a device), then OrderFulfilled — three
 * dependent appends. `extraEvents` adds seats/devices to reach a target size.
 * Returns the position of the last append.
 */
export async function appendOrder(store: EventStore, n: number, customers: number, extraEvents = 0): Promise<{ position: number; events: number }> {
  const m = meta();
  const orderId = `SO-${n}`;
  const entitlementId = `ent-${n}`;
  const sku = SKUS[n % SKUS.length]!;
  const order = { orderId, customerId: `cust-${n % customers}`, effectiveAt: m.now, lines: [{ lineId: '1', sku, quantity: 5, action: 'new' as const }] };
  const received = decideOrder({ type: 'ReceiveOrder', data: { order, payloadHash: orderId, catalog: benchCatalog }, metadata: m }, initialOrderState);
  await store.append(`order-${orderId}`, wire(received), { expectedRevision: 'no_stream' });

  let state = initialEntitlementState;
  const events: DomainEvent[] = [];
  const apply = (cmd: Parameters<typeof decideEntitlement>[0]) => {
    const produced = decideEntitlement(cmd, state);
    state = produced.reduce(evolveEntitlement, state);
    events.push(...produced);
  };
  apply({ type: 'GrantEntitlement', data: { entitlementId, customerId: order.customerId, catalog: benchCatalog, sku, quantity: 5, origin: { kind: 'order', orderId, lineId: '1' } }, metadata: m });
  for (let i = 0; i < Math.min(extraEvents, 5); i++) apply({ type: 'AssignSeat', data: { userId: `u-${n}-${i}` }, metadata: m });
  for (let i = 5; i < extraEvents; i++) apply({ type: 'ActivateDevice', data: { deviceId: `d-${n}-${i}` }, metadata: m });
  await store.append(`entitlement-${entitlementId}`, wire(events), { expectedRevision: 'no_stream' });

  const done = decideOrder(
    { type: 'CompleteOrder', data: { lines: [{ lineId: '1', action: 'new', sku, entitlementId, status: 'fulfilled', events: events.map((e) => e.type) }] }, metadata: m },
    received.reduce(evolveOrder, initialOrderState),
  );
  const r = await store.append(`order-${orderId}`, wire(done), { expectedRevision: 0 });
  return { position: r.position, events: 2 + events.length };
}
