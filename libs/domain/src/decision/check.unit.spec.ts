import { catalog, meta, T0 } from '../__fixtures__/fixtures';
import type { EntitlementCommand } from '../entitlement/entitlement.commands';
import { entitlementDecider, foldEntitlement } from '../entitlement/entitlement.decider';
import type { EntitlementEvent } from '../entitlement/entitlement.events';
import type { Entitlement } from '../entitlement/entitlement.state';
import { checkEntitlements as check, DECISION_PRECEDENCE, subjectOf, check as checkSubjects, type CheckRequest } from './check';

const m = meta();
function entitlement(id: string, sku: string, quantity: number, ...changes: EntitlementCommand['data'][] | any[]): Entitlement {
  const cmds: EntitlementCommand[] = [
    { type: 'GrantEntitlement', data: { entitlementId: id, customerId: 'c1', catalog, sku, quantity, origin: { kind: 'manual' } }, metadata: m },
    ...(changes as EntitlementCommand[]),
  ];
  let events: EntitlementEvent[] = [];
  for (const c of cmds) events = [...events, ...entitlementDecider.decide(c, foldEntitlement(events))];
  const s = foldEntitlement(events);
  if (s.status === 'none') throw new Error('no entitlement');
  return s;
}
const c = (type: EntitlementCommand['type'], data: object, metadata = m) => ({ type, data, metadata }) as EntitlementCommand;
const req = (over: Partial<CheckRequest> = {}): CheckRequest => ({ customerId: 'c1', feature: 'dashboards', at: '2026-06-01T00:00:00.000Z', ...over });
const ctx = { catalog: catalog.catalog };

describe('check: precedence of decision codes', () => {
  const pro = entitlement('e', 'ANL-PRO', 2, c('AssignSeat', { userId: 'u1' }), c('ActivateDevice', { deviceId: 'd1', userId: 'u1' }));

  // Each row breaks exactly one more rule than the row below it, so the code
  // returned shows which rule wins when several fail at once.
  const rows: Array<[string, Entitlement[], Partial<CheckRequest>]> = [
    ['NO_ENTITLEMENT', [], {}],
    ['REVOKED', [entitlement('e', 'ANL-PRO', 1, c('RevokeEntitlement', { reason: 'fraud' }))], { feature: 'sso', at: '2020-01-01T00:00:00.000Z' }],
    ['SUSPENDED', [entitlement('e', 'ANL-PRO', 1, c('SuspendEntitlement', { reason: 'unpaid' }))], { feature: 'sso', at: '2020-01-01T00:00:00.000Z' }],
    ['NOT_YET_ACTIVE', [pro], { feature: 'sso', at: '2020-01-01T00:00:00.000Z' }],
    ['EXPIRED', [pro], { feature: 'sso', at: '2028-01-01T00:00:00.000Z' }],
    ['FEATURE_NOT_INCLUDED', [pro], { feature: 'sso', userId: 'nobody' }],
    ['REGION_BLOCKED', [entitlement('f', 'ANL-FREE', 1)], { region: 'US', userId: 'nobody' }],
    ['SEAT_NOT_ASSIGNED', [pro], { userId: 'nobody', deviceId: 'unknown' }],
    ['DEVICE_LIMIT', [pro], { userId: 'u1', deviceId: 'unknown' }],
    ['USAGE_CAP_REACHED', [entitlement('f', 'ANL-FREE', 1)], { feature: 'projects', quantity: 4, region: 'EU' }],
    ['OK', [pro], { userId: 'u1', deviceId: 'd1' }],
  ];

  it('covers every code in the architecture\'s order', () => {
    expect(rows.map((r) => r[0])).toEqual([...DECISION_PRECEDENCE]);
  });
  it.each(rows)('%s', (code, ents, over) => {
    const d = check(ents, req(over), ctx);
    expect(d.code).toBe(code);
    expect(d.allowed).toBe(code === 'OK');
  });
});

describe('check: details', () => {
  const pro = entitlement('e', 'ANL-PRO', 1);

  it('allows inside the grace period with IN_GRACE and reports expiry', () => {
    const d = check([pro], req({ at: '2027-01-20T00:00:00.000Z' }), ctx);
    expect(d).toMatchObject({ allowed: true, code: 'IN_GRACE', entitlementId: 'e', expiresAt: '2027-01-15T10:00:00.000Z' });
    expect(check([pro], req({ at: '2027-01-29T10:00:00.000Z' }), ctx).code).toBe('EXPIRED');
  });

  it('denies a recorded expiry even when the clock says the term is running', () => {
    const after = meta({ now: '2027-02-01T00:00:00.000Z' });
    const expired = entitlement('e', 'ANL-PRO', 1, c('ExpireEntitlement', {}, after));
    expect(check([expired], req(), ctx).code).toBe('EXPIRED');
  });

  it('names the lowest plan that unlocks a missing feature, else the add-on', () => {
    expect(check([pro], req({ feature: 'sso' }), ctx)).toMatchObject({
      code: 'FEATURE_NOT_INCLUDED',
      upgradeHint: { kind: 'plan', sku: 'ANL-ENT', productId: 'analytics' },
    });
    expect(check([pro], req({ feature: 'ai' }), ctx).upgradeHint).toMatchObject({ kind: 'add_on', sku: 'ANL-AI' });
    // a feature of another product: name that product's entry plan
    expect(check([pro], req({ feature: 'hsm' }), ctx).upgradeHint).toMatchObject({ kind: 'plan', sku: 'VLT-ENT', productId: 'vault' });
  });

  it('enforces hard caps with remaining and a hint, and allows soft caps as OVERAGE', () => {
    const free = entitlement('f', 'ANL-FREE', 1);
    const usage = () => 95;
    expect(check([free], req({ feature: 'api_calls', quantity: 5 }), { ...ctx, usage })).toMatchObject({ allowed: true, code: 'OK', remaining: 0 });
    expect(check([free], req({ feature: 'api_calls', quantity: 6 }), { ...ctx, usage })).toMatchObject({
      allowed: false,
      code: 'USAGE_CAP_REACHED',
      remaining: 5,
      upgradeHint: { kind: 'plan', sku: 'ANL-PRO' },
    });
    const proUsage = () => 1000;
    // Over a soft cap: allowed, billed, and the upgrade that lifts the cap offered.
    expect(check([pro], req({ feature: 'api_calls' }), { ...ctx, usage: proUsage })).toMatchObject({ allowed: true, code: 'OVERAGE', remaining: 0, upgradeHint: { kind: 'plan', sku: 'ANL-ENT' } });
    // A credit that took usage below zero does not lift the cap.
    expect(check([free], req({ feature: 'api_calls', quantity: 101 }), { ...ctx, usage: () => -500 })).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED', remaining: 100 });
  });

  it('a MAX meter is over its cap when the new value is, not the sum', () => {
    const free = entitlement('f', 'ANL-FREE', 1);
    const maxed = { ...free, features: { ...free.features, api_calls: { meter: { ...free.features['api_calls']!.meter!, aggregation: 'max' as const } } } };
    expect(check([maxed], req({ feature: 'api_calls', quantity: 90 }), { ...ctx, usage: () => 95 })).toMatchObject({ allowed: true, code: 'OK', remaining: 5 });
    expect(check([maxed], req({ feature: 'api_calls', quantity: 101 }), { ...ctx, usage: () => 95 })).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED', remaining: 5 });
  });

  it('counts add-on grants towards caps', () => {
    const withAddOn = entitlement('e', 'ANL-PRO', 1, c('AttachAddOn', { catalog, sku: 'ANL-API-10K', quantity: 1 }), c('AttachAddOn', { catalog, sku: 'ANL-AI', quantity: 1 }));
    expect(check([withAddOn], req({ feature: 'api_calls', quantity: 10_000 }), { ...ctx, usage: () => 500 })).toMatchObject({ code: 'OK', remaining: 500 });
    expect(check([withAddOn], req({ feature: 'ai' }), ctx).code).toBe('OK');
  });

  it('passes the feature, period and the instant checked to the usage lookup', () => {
    const seen: unknown[] = [];
    check([pro], req({ feature: 'api_calls' }), { usage: (...args) => (seen.push(args), 0) });
    expect(seen).toEqual([['e', 'api_calls', 'month', req({}).atMs ?? Date.parse(req({}).at!)]]);
    seen.length = 0;
    check([pro], req({ feature: 'projects' }), { usage: (...args) => (seen.push(args), 0) });
    expect(seen).toEqual([['e', 'projects', null, req({}).atMs ?? Date.parse(req({}).at!)]]);
  });

  it('prefers an allowing entitlement over a denying one, and the most specific denial otherwise', () => {
    const revoked = entitlement('r', 'ANL-ENT', 1, c('RevokeEntitlement', { reason: 'x' }));
    expect(check([revoked, pro], req(), ctx)).toMatchObject({ code: 'OK', entitlementId: 'e' });
    expect(check([revoked, pro], req({ feature: 'sso' }), ctx)).toMatchObject({ code: 'FEATURE_NOT_INCLUDED', entitlementId: 'e' });
  });

  it('ignores other customers\' entitlements and honours a product filter', () => {
    expect(check([pro], req({ customerId: 'someone-else' }), ctx).code).toBe('NO_ENTITLEMENT');
    expect(check([pro], req({ productId: 'vault' }), ctx).code).toBe('NO_ENTITLEMENT');
  });

  it('accepts epoch milliseconds, and the same subject answers every check', () => {
    const subject = subjectOf(pro);
    expect(subject.seatHolders).toBeInstanceOf(Set);
    const byIso = checkSubjects([subject], req({ at: '2027-01-20T00:00:00.000Z' }), ctx);
    const byMs = checkSubjects([subject], { customerId: 'c1', feature: 'dashboards', atMs: Date.parse('2027-01-20T00:00:00.000Z') }, ctx);
    expect(byMs).toEqual(byIso);
    expect(() => checkSubjects([subject], { customerId: 'c1', feature: 'dashboards' })).toThrow(/at/);
  });

  it('is a pure function of its inputs', () => {
    const frozen = Object.freeze({ ...pro });
    const a = check([frozen as Entitlement], req({ at: T0 }), ctx);
    const b = check([frozen as Entitlement], req({ at: T0 }), ctx);
    expect(a).toEqual(b);
  });
});
