import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  CATALOG_STREAM,
  decideAccessRequest,
  decidePublishCatalog,
  evolveCatalogHistory,
  initialCatalogHistory,
  decideEntitlement,
  decideOrder,
  evolveAccessRequest,
  evolveEntitlement,
  evolveOrder,
  initialAccessRequestState,
  initialEntitlementState,
  initialOrderState,
  parseCatalog,
  type AccessRequestCommand,
  type Catalog,
  type CatalogHistory,
  type CommandMetadata,
  type DomainEvent,
  type EntitlementCommand,
  type EntitlementState,
  type PublishedCatalog,
} from '@el/domain';
import type { EventStore } from '../event-store.port';

const REPO = join(__dirname, '..', '..', '..', '..');

export function sampleCatalog(): PublishedCatalog {
  const parsed = parseCatalog(parse(readFileSync(join(REPO, 'catalog', 'sample-catalog.yaml'), 'utf8')));
  if (!parsed.ok) throw new Error('sample catalog invalid');
  return { version: 1, hash: 'test', catalog: parsed.catalog };
}

/**
 * Writes a ledger-shaped log through the domain deciders: orders that grant,
 * seats and devices, plan changes, add-ons, suspensions, revocations, access
 * requests approved and rejected. Deterministic for a given `entitlements`.
 */
export class LedgerLog {
  private readonly catalog = sampleCatalog();
  private readonly states = new Map<string, EntitlementState>();
  private catalogs: CatalogHistory = initialCatalogHistory;
  private seq = 0;
  private t = Date.parse('2026-01-01T00:00:00.000Z');

  /** `idPrefix` names the event ids: a second writer to the same store needs its own. */
  constructor(
    private readonly store: EventStore,
    private readonly idPrefix = 'seed',
  ) {}

  private meta(): CommandMetadata {
    this.t += 60_000;
    const now = new Date(this.t).toISOString();
    return { now, correlationId: `c-${this.seq}`, causationId: `c-${this.seq}`, actor: { type: 'operator', id: 'seed' }, source: 'api' };
  }

  private async append(stream: string, events: readonly DomainEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const r = await this.store.append(
      stream,
      events.map((e) => ({ id: `${this.idPrefix}-${++this.seq}`, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> })),
    );
    return r.position;
  }

  async entitlement(id: string, command: (meta: CommandMetadata) => EntitlementCommand): Promise<number> {
    const state = this.states.get(id) ?? initialEntitlementState;
    const events = decideEntitlement(command(this.meta()), state);
    this.states.set(id, events.reduce(evolveEntitlement, state));
    return this.append(`entitlement-${id}`, events);
  }

  /** An order with one `new` line that grants `entitlementId`. */
  async orderGrant(orderId: string, customerId: string, entitlementId: string, sku: string, quantity: number): Promise<number> {
    const meta = this.meta();
    const order = { orderId, customerId, effectiveAt: meta.now, lines: [{ lineId: '1', sku, quantity, action: 'new' as const }] };
    const received = decideOrder({ type: 'ReceiveOrder', data: { order, payloadHash: orderId, catalog: this.catalog }, metadata: meta }, initialOrderState);
    await this.append(`order-${orderId}`, received);
    await this.entitlement(entitlementId, (m) => ({
      type: 'GrantEntitlement',
      data: { entitlementId, customerId, catalog: this.catalog, sku, quantity, origin: { kind: 'order', orderId, lineId: '1' } },
      metadata: m,
    }));
    const state = received.reduce(evolveOrder, initialOrderState);
    const done = decideOrder({ type: 'CompleteOrder', data: { lines: [{ lineId: '1', action: 'new', sku, entitlementId, status: 'fulfilled', events: ['EntitlementGranted'] }] }, metadata: meta }, state);
    return this.append(`order-${orderId}`, done);
  }

  /** Publishes `catalog` as the next catalog version (CatalogPublished on the catalog stream), as the ledger does at boot; returns its position. */
  async publishCatalog(catalog: Catalog = this.catalog.catalog, hash = `test-${this.catalogs.versions.length + 1}`): Promise<number> {
    const events = decidePublishCatalog({ type: 'PublishCatalog', data: { catalog, hash }, metadata: this.meta() }, this.catalogs);
    this.catalogs = events.reduce(evolveCatalogHistory, this.catalogs);
    return this.append(CATALOG_STREAM, events);
  }

  async accessRequest(requestId: string, customerId: string, decision: 'approve' | 'reject' | 'none'): Promise<number> {
    const meta = this.meta();
    const commands: AccessRequestCommand[] = [
      { type: 'RequestAccess', data: { requestId, customerId, sku: 'VLT-PRO', quantity: 1, requestedBy: 'alice', reason: 'need secrets', catalog: this.catalog }, metadata: meta },
    ];
    if (decision === 'approve') commands.push({ type: 'ApproveAccess', data: { approvedBy: 'bob', comment: 'ok', newEntitlementId: `ent-${requestId}` }, metadata: meta });
    if (decision === 'reject') commands.push({ type: 'RejectAccess', data: { rejectedBy: 'bob', reason: 'no budget' }, metadata: meta });
    let state = initialAccessRequestState;
    let position = 0;
    for (const c of commands) {
      const events = decideAccessRequest(c, state);
      state = events.reduce(evolveAccessRequest, state);
      position = await this.append(`access-request-${requestId}`, events);
    }
    return position;
  }

  /** A varied history over `count` entitlements of `customers` customers; returns the head position. */
  async scenario(count: number, customers = Math.max(1, Math.ceil(count / 4))): Promise<number> {
    let head = 0;
    for (let i = 0; i < count; i++) {
      const id = `ent-${String(i).padStart(5, '0')}`;
      const customer = `cust-${i % customers}`;
      head = await this.orderGrant(`SO-${i}`, customer, id, i % 5 === 0 ? 'DSG-PRO' : 'ANL-PRO', 3);
      head = await this.entitlement(id, (m) => ({ type: 'AssignSeat', data: { userId: `u-${i}-a` }, metadata: m }));
      head = await this.entitlement(id, (m) => ({ type: 'AssignSeat', data: { userId: `u-${i}-b` }, metadata: m }));
      head = await this.entitlement(id, (m) => ({ type: 'ActivateDevice', data: { deviceId: `d-${i}`, userId: `u-${i}-a` }, metadata: m }));
      if (i % 3 === 0 && i % 5 !== 0) head = await this.entitlement(id, (m) => ({ type: 'ChangePlan', data: { catalog: this.catalog, sku: 'ANL-ENT' }, metadata: m }));
      if (i % 4 === 1) head = await this.entitlement(id, (m) => ({ type: 'ReleaseSeat', data: { userId: `u-${i}-a` }, metadata: m }));
      if (i % 7 === 2) head = await this.entitlement(id, (m) => ({ type: 'SuspendEntitlement', data: { reason: 'unpaid' }, metadata: m }));
      if (i % 11 === 3) head = await this.entitlement(id, (m) => ({ type: 'RevokeEntitlement', data: { reason: 'fraud' }, metadata: m }));
      if (i % 6 === 4) head = await this.accessRequest(`req-${i}`, customer, i % 18 === 4 ? 'approve' : i % 18 === 10 ? 'reject' : 'none');
    }
    return head;
  }
}
