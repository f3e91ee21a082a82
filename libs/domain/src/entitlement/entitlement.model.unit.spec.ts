import fc from 'fast-check';
import { expectEqual, propertyParams } from '@el/testing';
import { catalog, meta, T0 } from '../__fixtures__/fixtures';
import { resolveSku } from '../catalog/catalog';
import { checkEntitlements } from '../decision/check';
import { DomainError, type DomainErrorCode } from '../shared/errors';
import { addDays, addTerm, toMillis, type Term } from '../shared/time';
import type { EntitlementCommand } from './entitlement.commands';
import { decideEntitlement, foldEntitlement } from './entitlement.decider';
import type { EntitlementEvent } from './entitlement.events';
import { evolveEntitlement, foldEntitlementFrom, initialEntitlementState, type Entitlement, type EntitlementState } from './entitlement.state';

/**
 * Model-based test of the entitlement decider: random command sequences (with
 * time moving on) run against the decider and against a small reference model
 * written here from the rules in libs/domain/README.md. After every command:
 *  - the decider accepts exactly when the model finds no rule broken, and a
 *    refusal names one of the rules the model says are broken (never a made-up
 *    one) and emits nothing;
 *  - an accepted command emits the events the model expects, and the folded
 *    state equals the model's;
 *  - invariants hold on the decider's own state, whatever the model says:
 *    seats never over-assigned, devices within every limit, plan terms exactly
 *    a catalog plan of the product granted, revoked is terminal, and the
 *    decision function's lifecycle code agrees with validity and grace.
 * A failure prints the shrunk command sequence and the seed to replay it
 * (libs/testing/src/property.ts).
 */

const CUSTOMER = 'cust-1';
const PLAN_SKUS = catalog.catalog.products.flatMap((p) => p.plans.map((plan) => plan.sku));
const ADD_ON_SKUS = catalog.catalog.addOns.map((a) => a.sku);
const USERS = ['u1', 'u2', 'u3', 'u4'];
const DEVICES = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'];

type Action =
  | { readonly do: 'advance'; readonly days: number }
  | { readonly do: 'grant'; readonly sku: string; readonly quantity: number }
  | { readonly do: 'changePlan'; readonly sku: string; readonly quantity?: number; readonly direction?: 'upgrade' | 'downgrade'; readonly customerId?: string }
  | { readonly do: 'attach'; readonly sku: string; readonly quantity: number; readonly customerId?: string }
  | { readonly do: 'detach'; readonly sku: string; readonly customerId?: string }
  | { readonly do: 'seats'; readonly seats: number; readonly customerId?: string }
  | { readonly do: 'renew'; readonly periods: number; readonly customerId?: string }
  | { readonly do: 'suspend' }
  | { readonly do: 'reinstate' }
  | { readonly do: 'revoke'; readonly customerId?: string }
  | { readonly do: 'expire' }
  | { readonly do: 'assign'; readonly userId: string }
  | { readonly do: 'release'; readonly userId: string }
  /** `holder`: the first user holding a seat when the step runs (so that one user gathers devices). */
  | { readonly do: 'activate'; readonly deviceId: string; readonly userId?: string | 'holder' }
  | { readonly do: 'deactivate'; readonly deviceId: string };

// ---------------------------------------------------------------- the reference model

interface PlanFacts {
  readonly productId: string;
  readonly sku: string;
  readonly tier: number;
  readonly seatsPerUnit: number;
  readonly maxDevicesPerSeat: number | null;
  readonly term: Term | null;
  readonly graceDays: number;
}

interface ModelEntitlement {
  readonly status: 'active' | 'suspended' | 'expired' | 'revoked';
  readonly plan: PlanFacts;
  readonly seats: number;
  readonly validUntil: string | null;
  readonly users: readonly string[];
  /** deviceId → the user it belongs to, or null. */
  readonly devices: Readonly<Record<string, string | null>>;
  /** add-on SKU → units attached. */
  readonly addOns: Readonly<Record<string, number>>;
}

interface Model {
  readonly now: string;
  readonly ent: ModelEntitlement | null;
}

type Prediction =
  /** Refused: the decider must name one of these rules. */
  | { readonly refused: readonly DomainErrorCode[] }
  | { readonly events: readonly string[]; readonly next: ModelEntitlement };

function planFacts(sku: string): PlanFacts | 'add_on' | null {
  const r = resolveSku(catalog.catalog, sku);
  if (!r) return null;
  if (r.kind === 'add_on') return 'add_on';
  const p = r.plan;
  return { productId: r.product.id, sku: p.sku, tier: p.tier, seatsPerUnit: p.seatsPerUnit, maxDevicesPerSeat: p.maxDevicesPerSeat, term: p.term, graceDays: p.graceDays };
}

function addOnProduct(sku: string): string | 'plan' | null {
  const r = resolveSku(catalog.catalog, sku);
  if (!r) return null;
  return r.kind === 'add_on' ? r.addOn.productId : 'plan';
}

const devicesOf = (e: ModelEntitlement, userId: string) => Object.values(e.devices).filter((u) => u === userId).length;
const graceEnds = (e: ModelEntitlement) => (e.validUntil === null ? null : addDays(e.validUntil, e.plan.graceDays));

/** Devices a plan allows on `seats` seats, in total and per user (null: unlimited). */
function deviceRulesBroken(e: ModelEntitlement, plan: PlanFacts, seats: number): boolean {
  if (plan.maxDevicesPerSeat === null) return false;
  if (Object.keys(e.devices).length > plan.maxDevicesPerSeat * seats) return true;
  return e.users.some((u) => devicesOf(e, u) > plan.maxDevicesPerSeat!);
}

function predict(m: Model, a: Exclude<Action, { do: 'advance' }>): Prediction {
  const e = m.ent;
  if (a.do === 'grant') {
    if (e) return { refused: ['ENTITLEMENT.ALREADY_EXISTS'] };
    const broken: DomainErrorCode[] = [];
    const plan = planFacts(a.sku);
    if (plan === null) broken.push('CATALOG.UNKNOWN_SKU');
    if (plan === 'add_on') broken.push('CATALOG.NOT_A_PLAN');
    if (a.quantity < 1) broken.push('QUANTITY.INVALID');
    if (broken.length > 0 || plan === null || plan === 'add_on') return { refused: broken };
    return {
      events: ['EntitlementGranted'],
      next: { status: 'active', plan, seats: a.quantity * plan.seatsPerUnit, validUntil: plan.term ? addTerm(m.now, plan.term) : null, users: [], devices: {}, addOns: {} },
    };
  }
  // Nothing else can happen to a missing entitlement, and nothing at all to a revoked one.
  if (!e) return { refused: ['ENTITLEMENT.NOT_FOUND'] };
  if (e.status === 'revoked') return { refused: ['ENTITLEMENT.ALREADY_REVOKED'] };

  const broken: DomainErrorCode[] = [];
  if ('customerId' in a && a.customerId !== undefined && a.customerId !== CUSTOMER) broken.push('ENTITLEMENT.CUSTOMER_MISMATCH');
  const expired = e.status === 'expired';
  const outcome = (events: readonly string[], next: ModelEntitlement): Prediction => (broken.length > 0 ? { refused: broken } : { events, next });

  switch (a.do) {
    case 'changePlan': {
      if (expired) broken.push('ENTITLEMENT.EXPIRED');
      if (a.quantity !== undefined && a.quantity < 1) broken.push('QUANTITY.INVALID');
      const plan = planFacts(a.sku);
      if (plan === null) return { refused: [...broken, 'CATALOG.UNKNOWN_SKU'] };
      if (plan === 'add_on') return { refused: [...broken, 'CATALOG.NOT_A_PLAN'] };
      if (plan.productId !== e.plan.productId) return { refused: [...broken, 'PLAN.PRODUCT_MISMATCH'] };
      if (plan.sku === e.plan.sku) return { refused: [...broken, 'PLAN.SAME_PLAN'] };
      const upgrade = plan.tier > e.plan.tier;
      if (a.direction === 'upgrade' && !upgrade) broken.push('PLAN.NOT_AN_UPGRADE');
      if (a.direction === 'downgrade' && upgrade) broken.push('PLAN.NOT_A_DOWNGRADE');
      const seats = a.quantity !== undefined && a.quantity >= 1 ? a.quantity * plan.seatsPerUnit : e.seats;
      if (seats < e.users.length) broken.push('SEATS.BELOW_ASSIGNED');
      if (deviceRulesBroken(e, plan, seats)) broken.push('DEVICE.ABOVE_LIMIT');
      return outcome(['PlanChanged'], { ...e, plan, seats });
    }
    case 'attach': {
      if (expired) broken.push('ENTITLEMENT.EXPIRED');
      if (a.quantity < 1) broken.push('QUANTITY.INVALID');
      const product = addOnProduct(a.sku);
      if (product === null) broken.push('CATALOG.UNKNOWN_SKU');
      else if (product === 'plan') broken.push('CATALOG.NOT_AN_ADD_ON');
      else if (product !== e.plan.productId) broken.push('ADD_ON.PRODUCT_MISMATCH');
      return outcome(['AddOnAttached'], { ...e, addOns: { ...e.addOns, [a.sku]: (e.addOns[a.sku] ?? 0) + a.quantity } });
    }
    case 'detach': {
      if (e.addOns[a.sku] === undefined) broken.push('ADD_ON.NOT_ATTACHED');
      const { [a.sku]: _gone, ...addOns } = e.addOns;
      return outcome(['AddOnDetached'], { ...e, addOns });
    }
    case 'seats': {
      if (expired) broken.push('ENTITLEMENT.EXPIRED');
      if (a.seats < 1) broken.push('SEATS.INVALID_COUNT');
      // The same count again: nothing to record.
      if (broken.length === 0 && a.seats === e.seats) return { events: [], next: e };
      if (a.seats < e.users.length) broken.push('SEATS.BELOW_ASSIGNED');
      if (deviceRulesBroken(e, e.plan, a.seats)) broken.push('DEVICE.ABOVE_LIMIT');
      return outcome(['SeatsChanged'], { ...e, seats: a.seats });
    }
    case 'renew': {
      if (e.plan.term === null || e.validUntil === null) broken.push('ENTITLEMENT.PERPETUAL');
      if (a.periods < 1) broken.push('QUANTITY.INVALID');
      if (broken.length > 0) return { refused: broken };
      // Renewed before the grace ends: the term continues without a gap; after: a new term from now.
      const start = toMillis(m.now) < toMillis(graceEnds(e)!) ? e.validUntil! : m.now;
      // Renewal extends validity; it lifts an expiry, never a suspension (only a reinstatement does).
      const status = e.status === 'expired' ? 'active' : e.status;
      return outcome(['EntitlementRenewed'], { ...e, status, validUntil: addTerm(start, e.plan.term!, a.periods) });
    }
    case 'suspend':
      if (e.status === 'suspended') broken.push('ENTITLEMENT.ALREADY_SUSPENDED');
      if (expired) broken.push('ENTITLEMENT.EXPIRED');
      return outcome(['EntitlementSuspended'], { ...e, status: 'suspended' });
    case 'reinstate':
      if (e.status !== 'suspended') broken.push('ENTITLEMENT.NOT_SUSPENDED');
      return outcome(['EntitlementReinstated'], { ...e, status: 'active' });
    case 'revoke':
      return outcome(['EntitlementRevoked'], { ...e, status: 'revoked' });
    case 'expire': {
      if (expired) return { events: [], next: e };
      const ends = graceEnds(e);
      if (ends === null) broken.push('ENTITLEMENT.PERPETUAL');
      else if (toMillis(m.now) < toMillis(ends)) broken.push('ENTITLEMENT.NOT_DUE_TO_EXPIRE');
      return outcome(['EntitlementExpired'], { ...e, status: 'expired' });
    }
    case 'assign':
      if (expired) broken.push('ENTITLEMENT.EXPIRED');
      if (e.users.includes(a.userId)) broken.push('SEAT.ALREADY_ASSIGNED');
      if (e.users.length >= e.seats) broken.push('SEAT.NONE_AVAILABLE');
      return outcome(['SeatAssigned'], { ...e, users: [...e.users, a.userId] });
    case 'release': {
      if (!e.users.includes(a.userId)) broken.push('SEAT.NOT_ASSIGNED');
      // The user's devices leave with the seat.
      const theirs = Object.keys(e.devices).filter((d) => e.devices[d] === a.userId);
      const devices = Object.fromEntries(Object.entries(e.devices).filter(([, u]) => u !== a.userId));
      return outcome(['SeatReleased', ...theirs.map(() => 'DeviceDeactivated')], { ...e, users: e.users.filter((u) => u !== a.userId), devices });
    }
    case 'activate': {
      if (expired) broken.push('ENTITLEMENT.EXPIRED');
      if (e.devices[a.deviceId] !== undefined) broken.push('DEVICE.ALREADY_ACTIVE');
      if (a.userId !== undefined && !e.users.includes(a.userId)) broken.push('SEAT.NOT_ASSIGNED');
      const perSeat = e.plan.maxDevicesPerSeat;
      if (perSeat !== null && Object.keys(e.devices).length >= perSeat * e.seats) broken.push('DEVICE.LIMIT_REACHED');
      if (perSeat !== null && a.userId !== undefined && devicesOf(e, a.userId) >= perSeat) broken.push('DEVICE.LIMIT_REACHED');
      return outcome(['DeviceActivated'], { ...e, devices: { ...e.devices, [a.deviceId]: a.userId ?? null } });
    }
    case 'deactivate': {
      if (e.devices[a.deviceId] === undefined) broken.push('DEVICE.NOT_ACTIVE');
      const { [a.deviceId]: _gone, ...devices } = e.devices;
      return outcome(['DeviceDeactivated'], { ...e, devices });
    }
  }
}

// ---------------------------------------------------------------- the decider's side

function commandFor(a: Exclude<Action, { do: 'advance' }>, now: string): EntitlementCommand {
  const metadata = meta({ now });
  const from = 'customerId' in a && a.customerId !== undefined ? { customerId: a.customerId, orderId: 'SO-1' } : {};
  switch (a.do) {
    case 'grant':
      return { type: 'GrantEntitlement', data: { entitlementId: 'ent-1', customerId: CUSTOMER, catalog, sku: a.sku, quantity: a.quantity, origin: { kind: 'manual' } }, metadata };
    case 'changePlan':
      return { type: 'ChangePlan', data: { ...from, catalog, sku: a.sku, ...(a.quantity !== undefined ? { quantity: a.quantity } : {}), ...(a.direction ? { direction: a.direction } : {}) }, metadata };
    case 'attach':
      return { type: 'AttachAddOn', data: { ...from, catalog, sku: a.sku, quantity: a.quantity }, metadata };
    case 'detach':
      return { type: 'DetachAddOn', data: { ...from, sku: a.sku, reason: 'model' }, metadata };
    case 'seats':
      return { type: 'ChangeSeats', data: { ...from, seats: a.seats }, metadata };
    case 'renew':
      return { type: 'RenewEntitlement', data: { ...from, periods: a.periods }, metadata };
    case 'suspend':
      return { type: 'SuspendEntitlement', data: { reason: 'model' }, metadata };
    case 'reinstate':
      return { type: 'ReinstateEntitlement', data: { reason: 'model' }, metadata };
    case 'revoke':
      return { type: 'RevokeEntitlement', data: { ...from, reason: 'model' }, metadata };
    case 'expire':
      return { type: 'ExpireEntitlement', data: {}, metadata };
    case 'assign':
      return { type: 'AssignSeat', data: { userId: a.userId }, metadata };
    case 'release':
      return { type: 'ReleaseSeat', data: { userId: a.userId }, metadata };
    case 'activate':
      return { type: 'ActivateDevice', data: { deviceId: a.deviceId, ...(a.userId !== undefined ? { userId: a.userId } : {}) }, metadata };
    case 'deactivate':
      return { type: 'DeactivateDevice', data: { deviceId: a.deviceId }, metadata };
  }
}

/** What the model can say about a state: the fields it keeps. */
function observed(s: Entitlement): ModelEntitlement {
  return {
    status: s.status,
    plan: { productId: s.productId, sku: s.planSku, tier: s.tier, seatsPerUnit: s.seatsPerUnit, maxDevicesPerSeat: s.maxDevicesPerSeat, term: s.term, graceDays: s.graceDays },
    seats: s.seats,
    validUntil: s.validUntil,
    users: [...s.assignedUsers],
    devices: Object.fromEntries(Object.values(s.devices).map((d) => [d.deviceId, d.userId])),
    addOns: Object.fromEntries(Object.values(s.addOns).map((a) => [a.sku, a.quantity])),
  };
}

const sorted = (e: ModelEntitlement) => ({ ...e, users: [...e.users].sort() });

/** Rules that hold in every state the decider can reach, checked on its own state (not the model's). */
function assertInvariants(s: Entitlement, grantedProduct: string, now: string): void {
  const fail = (what: string) => {
    throw new Error(`invariant broken: ${what}\nstate: ${JSON.stringify(s)}`);
  };
  const users = s.assignedUsers.toArray();
  if (new Set(users).size !== users.length) fail('a user holds two seats');
  if (users.length !== s.assignedUsers.size) fail(`${users.length} users listed, size ${s.assignedUsers.size}`);
  if (!Number.isInteger(s.seats) || s.seats < 1) fail(`seats = ${s.seats}`);
  if (users.length > s.seats) fail(`${users.length} seats assigned of ${s.seats}`);
  const devices = Object.values(s.devices);
  if (s.maxDevicesPerSeat !== null) {
    if (devices.length > s.maxDevicesPerSeat * s.seats) fail(`${devices.length} devices, limit ${s.maxDevicesPerSeat * s.seats}`);
    for (const u of s.assignedUsers) {
      const n = devices.filter((d) => d.userId === u).length;
      if (n > s.maxDevicesPerSeat) fail(`user ${u} has ${n} devices, ${s.maxDevicesPerSeat} per seat`);
    }
  }
  for (const d of devices) if (d.userId !== null && !s.assignedUsers.has(d.userId)) fail(`device ${d.deviceId} belongs to ${d.userId}, who holds no seat`);
  // Plan terms are those of a catalog plan of the product granted, never a mix.
  const r = resolveSku(catalog.catalog, s.planSku);
  if (!r || r.kind !== 'plan') fail(`plan SKU ${s.planSku} is no catalog plan`);
  else {
    if (r.product.id !== grantedProduct || s.productId !== grantedProduct) fail(`product changed from ${grantedProduct} to ${s.productId}`);
    const p = r.plan;
    expectEqual(
      { planId: s.planId, tier: s.tier, features: s.features, term: s.term, graceDays: s.graceDays, seatsPerUnit: s.seatsPerUnit, maxDevicesPerSeat: s.maxDevicesPerSeat, regions: s.regions },
      { planId: p.id, tier: p.tier, features: p.features, term: p.term, graceDays: p.graceDays, seatsPerUnit: p.seatsPerUnit, maxDevicesPerSeat: p.maxDevicesPerSeat, regions: p.regions },
      () => `plan terms of ${s.planSku}`,
    );
  }
  // Validity and grace as enforcement sees them.
  const feature = s.productId === 'analytics' ? 'dashboards' : 'secrets';
  const code = checkEntitlements([s], { customerId: s.customerId, feature, at: now }).code;
  const expected =
    s.status === 'revoked' ? 'REVOKED'
    : s.status === 'suspended' ? 'SUSPENDED'
    : s.status === 'expired' ? 'EXPIRED'
    : s.validUntil === null || toMillis(now) < toMillis(s.validUntil) ? 'OK'
    : toMillis(now) < toMillis(addDays(s.validUntil, s.graceDays)) ? 'IN_GRACE'
    : 'EXPIRED';
  if (code !== expected) fail(`a check at ${now} answers ${code}, the lifecycle says ${expected}`);
}

/** Picks the user a `holder` activation means, from the seat holders when the step runs. */
function resolve<A extends Action>(a: A, holders: readonly string[]): A {
  return a.do === 'activate' && a.userId === 'holder' ? { ...a, userId: holders[0] ?? USERS[0]! } : a;
}

/** Runs the actions against both sides; throws (with the step) at the first disagreement. */
function run(actions: readonly Action[]): void {
  let model: Model = { now: T0, ent: null };
  let state: EntitlementState = initialEntitlementState;
  let grantedProduct: string | null = null;
  const history: EntitlementEvent[] = [];
  for (const [i, generated] of actions.entries()) {
    const a = resolve(generated, model.ent?.users ?? []);
    const where = () => `step ${i} ${JSON.stringify(a)} at ${model.now}\nmodel: ${JSON.stringify(model.ent)}\nstate: ${JSON.stringify(state)}`;
    if (a.do === 'advance') {
      model = { ...model, now: addDays(model.now, a.days) };
      if (state.status !== 'none') assertInvariants(state, grantedProduct!, model.now);
      continue;
    }
    const expected = predict(model, a);
    let events: EntitlementEvent[] | null = null;
    let error: unknown = null;
    try {
      events = decideEntitlement(commandFor(a, model.now), state);
    } catch (err) {
      error = err;
    }
    if ('refused' in expected) {
      if (!(error instanceof DomainError)) throw new Error(`expected a refusal (${expected.refused.join(' or ')}), got ${error ? String(error) : JSON.stringify(events?.map((e) => e.type))}\n${where()}`);
      if (!expected.refused.includes(error.code)) throw new Error(`refused with ${error.code}; the rules broken are ${expected.refused.join(', ')}\n${where()}`);
      continue;
    }
    if (error) throw new Error(`expected ${JSON.stringify(expected.events)}, got ${String(error)}\n${where()}`);
    expectEqual(events!.map((e) => e.type), expected.events, where);
    const before = state;
    state = events!.reduce(evolveEntitlement, state);
    history.push(...events!);
    if (events!.length === 0 && state !== before) throw new Error(`a no-op changed the state\n${where()}`);
    if (state.status === 'none') throw new Error(`no entitlement after ${JSON.stringify(a)}`);
    grantedProduct ??= state.productId;
    model = { ...model, ent: expected.next };
    expectEqual(sorted(observed(state)), sorted(expected.next), where);
    assertInvariants(state, grantedProduct, model.now);
  }
  // The stream read back from scratch is the state built step by step.
  expectEqual(foldEntitlement(history), state);
  // And from a snapshot taken anywhere, with the events after it (short runs of seat events included).
  for (const cut of [history.length - 1, history.length - 3, history.length >> 1]) {
    if (cut > 0) expectEqual(foldEntitlementFrom(foldEntitlement(history.slice(0, cut)), history.slice(cut)), state);
  }
}

function refusalCode(attempt: () => unknown): string {
  try {
    return `accepted: ${JSON.stringify(attempt())}`;
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
}

// ---------------------------------------------------------------- generators

const sku = fc.constantFrom(...PLAN_SKUS, ...ADD_ON_SKUS, 'NOPE');
const quantity = fc.integer({ min: 0, max: 3 });
const user = fc.constantFrom(...USERS);
const device = fc.constantFrom(...DEVICES);
/** Mostly the entitlement's own customer; sometimes an order of another one. */
const fromOrder = fc.option(fc.constantFrom(CUSTOMER, CUSTOMER, 'cust-2'), { nil: undefined });
/** Left out a third of the time. */
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
/** Plan SKUs mostly, so that plan changes get past the catalog's checks to the seat and device rules. */
const planSku = fc.oneof({ arbitrary: fc.constantFrom(...PLAN_SKUS), weight: 4 }, { arbitrary: sku, weight: 1 });

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
/** Weighted so that sequences live long enough to fill seats and devices: the terminal revocation is rare. */
const action: fc.Arbitrary<Action> = fc.oneof(
  // Days mostly; sometimes past a term's end and its grace.
  w(6, fc.record({ do: fc.constant('advance' as const), days: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 25, max: 450 })) })),
  w(1, fc.record({ do: fc.constant('grant' as const), sku, quantity })),
  w(5, fc.record({ do: fc.constant('changePlan' as const), sku: planSku, quantity: opt(quantity), direction: opt(fc.constantFrom('upgrade' as const, 'downgrade' as const)), customerId: fromOrder }, { requiredKeys: ['do', 'sku'] })),
  w(2, fc.record({ do: fc.constant('attach' as const), sku, quantity, customerId: fromOrder }, { requiredKeys: ['do', 'sku', 'quantity'] })),
  w(2, fc.record({ do: fc.constant('detach' as const), sku: fc.constantFrom(...ADD_ON_SKUS), customerId: fromOrder }, { requiredKeys: ['do', 'sku'] })),
  w(4, fc.record({ do: fc.constant('seats' as const), seats: fc.integer({ min: 0, max: 12 }), customerId: fromOrder }, { requiredKeys: ['do', 'seats'] })),
  w(2, fc.record({ do: fc.constant('renew' as const), periods: fc.integer({ min: 0, max: 2 }), customerId: fromOrder }, { requiredKeys: ['do', 'periods'] })),
  w(2, fc.constant({ do: 'suspend' as const })),
  w(2, fc.constant({ do: 'reinstate' as const })),
  w(1, fc.record({ do: fc.constant('revoke' as const), customerId: fromOrder }, { requiredKeys: ['do'] })),
  w(2, fc.constant({ do: 'expire' as const })),
  w(8, fc.record({ do: fc.constant('assign' as const), userId: user })),
  w(3, fc.record({ do: fc.constant('release' as const), userId: user })),
  w(10, fc.record({ do: fc.constant('activate' as const), deviceId: device, userId: opt(fc.oneof(fc.constant('holder'), user)) }, { requiredKeys: ['do', 'deviceId'] })),
  w(3, fc.record({ do: fc.constant('deactivate' as const), deviceId: device })),
);

/** Every run starts with a valid grant (most interesting sequences need one), then anything. */
const grant = fc.record({ do: fc.constant('grant' as const), sku: fc.constantFrom(...PLAN_SKUS), quantity: fc.integer({ min: 1, max: 3 }) });
const sequence = fc.tuple(grant, fc.array(action, { maxLength: 60, size: 'max' })).map(([g, rest]) => [g, ...rest]);

/** Seats, devices and plan changes only, within one product: where the limits interact. */
const ANALYTICS_PLANS = catalog.catalog.products.find((p) => p.id === 'analytics')!.plans.map((p) => p.sku);
const limits: fc.Arbitrary<Action> = fc.oneof(
  w(4, fc.record({ do: fc.constant('assign' as const), userId: user })),
  w(1, fc.record({ do: fc.constant('release' as const), userId: user })),
  w(6, fc.record({ do: fc.constant('activate' as const), deviceId: device, userId: fc.oneof(fc.constant('holder'), fc.constant('holder'), user) })),
  w(1, fc.record({ do: fc.constant('deactivate' as const), deviceId: device })),
  w(2, fc.record({ do: fc.constant('seats' as const), seats: fc.integer({ min: 1, max: 6 }) })),
  w(3, fc.record({ do: fc.constant('changePlan' as const), sku: fc.constantFrom(...ANALYTICS_PLANS), quantity: opt(fc.integer({ min: 1, max: 4 })) }, { requiredKeys: ['do', 'sku'] })),
);
const limitsSequence = fc
  .tuple(fc.record({ do: fc.constant('grant' as const), sku: fc.constantFrom(...ANALYTICS_PLANS), quantity: fc.integer({ min: 1, max: 3 }) }), fc.array(limits, { maxLength: 40, size: 'max' }))
  .map(([g, rest]) => [g, ...rest]);

describe('Entitlement decider against a reference model (fast-check)', () => {
  it('agrees with the model and keeps every invariant over random command sequences', () => {
    fc.assert(fc.property(sequence, (actions) => run(actions)), propertyParams(400));
  });

  it('never over-assigns seats or devices, whatever seat counts and plan changes come between', () => {
    fc.assert(fc.property(limitsSequence, (actions) => run(actions)), propertyParams(300));
  });

  it('refuses everything but a grant on an entitlement that does not exist', () => {
    fc.assert(fc.property(fc.array(action, { maxLength: 15 }), (actions) => run(actions.filter((a) => a.do !== 'grant'))), propertyParams(100));
  });

  it('keeps a revoked entitlement exactly as it was, whatever comes after', () => {
    fc.assert(
      fc.property(sequence, fc.array(action, { minLength: 1, maxLength: 30 }), (before, after) => {
        const revoked = [...before, { do: 'revoke' as const }];
        let events: EntitlementEvent[] = [];
        let now = T0;
        for (const a of revoked) {
          if (a.do === 'advance') {
            now = addDays(now, a.days);
            continue;
          }
          try {
            const state = foldEntitlement(events);
            events = [...events, ...decideEntitlement(commandFor(resolve(a, state.status === 'none' ? [] : state.assignedUsers.toArray()), now), state)];
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
          }
        }
        const final = foldEntitlement(events);
        if (final.status !== 'revoked') return; // the grant or the revocation itself was refused: nothing to say
        for (const a of after) {
          if (a.do === 'advance') continue;
          const code = refusalCode(() => decideEntitlement(commandFor(a, now), final));
          expectEqual(code, a.do === 'grant' ? 'ENTITLEMENT.ALREADY_EXISTS' : 'ENTITLEMENT.ALREADY_REVOKED', () => JSON.stringify(a));
        }
      }),
      propertyParams(150),
    );
  });
});
