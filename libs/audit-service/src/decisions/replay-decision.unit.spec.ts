import {
  CATALOG_STREAM,
  decideEntitlement,
  decidePublishCatalog,
  evolveCatalogHistory,
  evolveEntitlement,
  initialCatalogHistory,
  initialEntitlementState,
  type Catalog,
  type CatalogHistory,
  type CommandMetadata,
  type DomainEvent,
  type EntitlementCommand,
  type EntitlementState,
  type PublishedCatalog,
} from '@el/domain';
import type { RecordedEvent } from '@el/event-store';
import { sampleCatalog } from '@el/event-store/testing';
import { catalogInForceAt, replayDecision, ReplayHistoryError } from './replay-decision';

const sample: Catalog = sampleCatalog().catalog;
const AT = Date.parse('2026-06-01T00:00:00.000Z');

/** A ledger's log written through the domain's deciders: positions and revisions as a store gives them. */
class Log {
  readonly events: RecordedEvent[] = [];
  private readonly states = new Map<string, EntitlementState>();
  private catalogs: CatalogHistory = initialCatalogHistory;
  private t = Date.parse('2026-01-01T00:00:00.000Z');

  get head(): number {
    return this.events.length;
  }

  private meta(): CommandMetadata {
    this.t += 60_000;
    const now = new Date(this.t).toISOString();
    return { now, correlationId: 'c', causationId: 'c', actor: { type: 'operator', id: 'test' }, source: 'api' };
  }

  private append(stream: string, events: readonly DomainEvent[]): number {
    let revision = this.events.filter((e) => e.stream === stream).length - 1;
    for (const e of events) {
      this.events.push({ id: `ev-${this.events.length + 1}`, stream, revision: ++revision, position: this.events.length + 1, type: e.type, data: e.data, metadata: e.metadata as never, recordedAt: new Date(this.t).toISOString() });
    }
    return this.head;
  }

  publishCatalog(catalog: Catalog): number {
    const events = decidePublishCatalog({ type: 'PublishCatalog', data: { catalog, hash: `h-${this.catalogs.versions.length + 1}` }, metadata: this.meta() }, this.catalogs);
    this.catalogs = events.reduce(evolveCatalogHistory, this.catalogs);
    return this.append(CATALOG_STREAM, events);
  }

  get catalog(): PublishedCatalog {
    return this.catalogs.current ?? { version: 1, hash: 'h', catalog: sample };
  }

  entitlement(id: string, command: (m: CommandMetadata) => EntitlementCommand): number {
    const state = this.states.get(id) ?? initialEntitlementState;
    const events = decideEntitlement(command(this.meta()), state);
    this.states.set(id, events.reduce(evolveEntitlement, state));
    return this.append(`entitlement-${id}`, events);
  }

  grant(id: string, customerId: string, sku: string, validFrom = '2026-01-01T00:00:00.000Z'): number {
    return this.entitlement(id, (m) => ({ type: 'GrantEntitlement', data: { entitlementId: id, customerId, catalog: this.catalog, sku, quantity: 2, validFrom, origin: { kind: 'manual' } }, metadata: m }));
  }
}

const replay = (log: Log, request: { customerId: string; feature: string; [k: string]: unknown }, position = log.head, usage: { entitlementId: string; feature: string; period: 'day' | 'month' | 'year' | null; value: number }[] = []) =>
  replayDecision({ events: log.events, request, atMs: AT, usage, position });

describe('replayDecision', () => {
  it('decides from the history up to the position: a later suspension does not count, and counts from its own position on', () => {
    const log = new Log();
    log.publishCatalog(sample);
    log.grant('e1', 'acme', 'ANL-PRO');
    const granted = log.entitlement('e1', (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }));
    const suspended = log.entitlement('e1', (m) => ({ type: 'SuspendEntitlement', data: { reason: 'unpaid' }, metadata: m }));
    expect(replay(log, { customerId: 'acme', feature: 'dashboards', userId: 'bob' }, granted)).toMatchObject({ allowed: true, code: 'OK', entitlementId: 'e1' });
    expect(replay(log, { customerId: 'acme', feature: 'dashboards', userId: 'bob' }, suspended)).toMatchObject({ allowed: false, code: 'SUSPENDED', reason: 'entitlement is suspended: unpaid' });
    // Only what the position covers counts, whatever else is passed.
    expect(replayDecision({ events: log.events.filter((e) => e.position <= granted), request: { customerId: 'acme', feature: 'dashboards', userId: 'bob' }, atMs: AT, usage: [] }).code).toBe('OK');
    expect(replay(log, { customerId: 'acme', feature: 'dashboards' }, 1)).toMatchObject({ code: 'NO_ENTITLEMENT' });
  });

  it('names the plans of the catalog in force at the position in its upgrade hints', () => {
    const log = new Log();
    const first = log.publishCatalog(sample);
    log.grant('e1', 'acme', 'ANL-FREE');
    const renamed = { ...sample, label: 'v2', products: sample.products.map((p) => ({ ...p, plans: p.plans.map((plan) => ({ ...plan, name: `${plan.name} (2027)` })) })) };
    const before = log.head;
    const second = log.publishCatalog(renamed);
    const sso = { customerId: 'acme', feature: 'sso' };
    expect(replay(log, sso, before).upgradeHint).toEqual({ kind: 'plan', sku: 'ANL-ENT', name: 'Analytics Enterprise', productId: 'analytics' });
    expect(replay(log, sso, second).upgradeHint).toEqual({ kind: 'plan', sku: 'ANL-ENT', name: 'Analytics Enterprise (2027)', productId: 'analytics' });
    expect([catalogInForceAt(log.events, first - 1), catalogInForceAt(log.events, before)?.version, catalogInForceAt(log.events, second)?.version]).toEqual([null, 1, 2]);
  });

  it('before any catalog version, gives no hint unless told the catalog the service fell back on', () => {
    const log = new Log();
    log.grant('e1', 'acme', 'ANL-FREE');
    expect(replay(log, { customerId: 'acme', feature: 'sso' }).upgradeHint).toBeNull();
    const withFile = replayDecision({ events: log.events, request: { customerId: 'acme', feature: 'sso' }, atMs: AT, usage: [], fallbackCatalog: sample });
    expect(withFile.upgradeHint).toMatchObject({ sku: 'ANL-ENT' });
  });

  it('reads usage from the values the decision recorded, not from anywhere else', () => {
    const log = new Log();
    log.publishCatalog(sample);
    log.grant('e1', 'acme', 'ANL-FREE'); // api_calls: 1000 a month, hard cap
    const request = { customerId: 'acme', feature: 'api_calls', quantity: 10 };
    expect(replay(log, request, log.head, [{ entitlementId: 'e1', feature: 'api_calls', period: 'month', value: 995 }])).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED', remaining: 5, reason: 'api_calls: 995 of 1000 used, 10 more requested' });
    expect(replay(log, request, log.head, [{ entitlementId: 'e1', feature: 'api_calls', period: 'month', value: 900 }])).toMatchObject({ allowed: true, remaining: 90 });
    // A value recorded for another period is not this one.
    expect(replay(log, request, log.head, [{ entitlementId: 'e1', feature: 'api_calls', period: 'day', value: 995 }])).toMatchObject({ allowed: true, remaining: 990 });
  });

  it('among equally good entitlements, the one that existed first decides, as in the view', () => {
    const log = new Log();
    log.publishCatalog(sample);
    log.grant('e-b', 'acme', 'ANL-PRO');
    log.grant('e-a', 'acme', 'ANL-PRO');
    log.entitlement('e-b', (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }));
    // Both deny the same way, e-b since an earlier position: its denial is the answer, though its stream changed last.
    expect(replay(log, { customerId: 'acme', feature: 'sso' }).entitlementId).toBe('e-b');
    // Another customer's entitlements never decide.
    log.grant('e-c', 'globex', 'ANL-ENT');
    expect(replay(log, { customerId: 'acme', feature: 'sso' }).code).toBe('FEATURE_NOT_INCLUDED');
  });

  it('refuses a history with a hole in a stream instead of deciding from a wrong state', () => {
    const log = new Log();
    log.grant('e1', 'acme', 'ANL-PRO');
    log.entitlement('e1', (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }));
    log.entitlement('e1', (m) => ({ type: 'AssignSeat', data: { userId: 'eve' }, metadata: m }));
    const holed = log.events.filter((e) => e.revision !== 1);
    expect(() => replayDecision({ events: holed, request: { customerId: 'acme', feature: 'dashboards' }, atMs: AT, usage: [] })).toThrow(ReplayHistoryError);
    // The same event twice is not a hole.
    expect(replayDecision({ events: [...log.events, log.events[1]!], request: { customerId: 'acme', feature: 'dashboards', userId: 'eve' }, atMs: AT, usage: [] }).code).toBe('OK');
  });
});
