import fc from 'fast-check';
import { subjectFromV1, type EntitlementV1 } from '@el/contracts';
import { check, type CheckRequest } from '@el/domain';
import { EntitlementTable, userKey } from './entitlement-table';
import { StringArena } from './string-arena';

const instantArb = fc.oneof(
  fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2035-01-01T00:00:00Z') }).map((ms) => new Date(ms).toISOString()),
  // Not in toISOString's form: kept as given.
  fc.constantFrom('2026-01-01T00:00:00Z', '2026-03-01T12:00:00+02:00', '2027-01-01T00:00:00.5Z'),
);
const userArb = fc.oneof(fc.constantFrom('ann', 'bob', 'cy', 'dee'), fc.string({ maxLength: 6 }), fc.constant('nul\u0000user'));

const stateArb = (entitlementId: string, customerId: string): fc.Arbitrary<EntitlementV1> =>
  fc.record({
    entitlementId: fc.constant(entitlementId),
    customerId: fc.constant(customerId),
    productId: fc.constantFrom('analytics', 'crm'),
    planId: fc.constantFrom('starter', 'pro'),
    planSku: fc.constantFrom('ANL-STARTER', 'ANL-PRO'),
    tier: fc.integer({ min: 1, max: 3 }),
    catalogVersion: fc.integer({ min: 1, max: 3 }),
    status: fc.constantFrom('active', 'suspended', 'expired', 'revoked'),
    statusReason: fc.option(fc.constantFrom('unpaid invoice', 'fraud review'), { nil: null }),
    seats: fc.integer({ min: 0, max: 40 }),
    assignedUsers: fc.uniqueArray(userArb, { maxLength: 20 }),
    devices: fc.uniqueArray(fc.record({ deviceId: fc.constantFrom('mac', 'pc', 'phone', 'tab'), userId: fc.option(fc.constantFrom('ann', 'bob'), { nil: null }) }), { maxLength: 4, selector: (d) => d.deviceId }),
    deviceLimit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    validFrom: instantArb,
    validUntil: fc.option(instantArb, { nil: null }),
    graceDays: fc.constantFrom(0, 14),
    graceEndsAt: fc.option(instantArb, { nil: null }),
    regions: fc.option(fc.uniqueArray(fc.constantFrom('EU', 'US', 'APAC'), { minLength: 1 }), { nil: null }),
    features: fc.constantFrom({ dashboards: {} }, { dashboards: {}, export: { limit: 5 } }, { api: { meter: { period: 'month' as const, cap: 100, capType: 'hard' as const } } }),
    addOns: fc.constantFrom([], [{ sku: 'EXTRA', quantity: 2 }]),
    revision: fc.integer({ min: 1, max: 1_000 }),
  }).map((s) => JSON.parse(JSON.stringify(s)) as EntitlementV1); // plain objects, as a message decodes to

const requestArb = (customerId: string): fc.Arbitrary<CheckRequest> =>
  fc.record({
    customerId: fc.constant(customerId),
    feature: fc.constantFrom('dashboards', 'export', 'api', 'missing'),
    productId: fc.option(fc.constantFrom('analytics', 'crm'), { nil: undefined }),
    userId: fc.option(userArb, { nil: undefined }),
    deviceId: fc.option(fc.constantFrom('mac', 'pc', 'watch'), { nil: undefined }),
    region: fc.option(fc.constantFrom('EU', 'US', 'LATAM'), { nil: undefined }),
    quantity: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    atMs: fc.integer({ min: Date.parse('2019-06-01T00:00:00Z'), max: Date.parse('2036-01-01T00:00:00Z') }),
  });

describe('EntitlementTable (the enforcement view in columns)', () => {
  it('gives back every state exactly as put, and decides every check as the state itself would (fast-check)', () => {
    fc.assert(
      fc.property(
        // An entitlement belongs to one customer: e1 and e2 to c1, e3 and e4 to c2.
        fc.array(fc.constantFrom('e1', 'e2', 'e3', 'e4'), { minLength: 1, maxLength: 12 }).chain((ids) =>
          fc.tuple(fc.tuple(...ids.map((e) => stateArb(e, e <= 'e2' ? 'c1' : 'c2'))), fc.array(requestArb('c1'), { maxLength: 6 }), fc.array(requestArb('c2'), { maxLength: 6 })),
        ),
        ([states, checks1, checks2]) => {
          const table = new EntitlementTable();
          // The reference: the newest revision of each entitlement.
          const latest = new Map<string, EntitlementV1>();
          for (const s of states) {
            const held = latest.get(s.entitlementId);
            const put = table.putIfNewer(s);
            expect(put).toBe(!held || held.revision < s.revision);
            if (put) latest.set(s.entitlementId, s);
          }
          for (const [id, s] of latest) expect(table.get(id)).toStrictEqual(s);
          for (const [customerId, checks] of [['c1', checks1], ['c2', checks2]] as const) {
            const mine = [...latest.values()].filter((s) => s.customerId === customerId);
            expect(new Set(table.ofCustomer(customerId).map((s) => s.entitlementId))).toEqual(new Set(mine.map((s) => s.entitlementId)));
            const ordered = table.ofCustomer(customerId).map((s) => subjectFromV1(latest.get(s.entitlementId)!));
            for (const req of checks) expect(check(table.subjectsOf(customerId) ?? [], req)).toEqual(check(ordered, req));
          }
          for (const user of ['ann', 'bob', 'nul\u0000user']) {
            expect(new Set(table.ofUser(user).map((s) => s.entitlementId))).toEqual(new Set([...latest.values()].filter((s) => s.assignedUsers.includes(user)).map((s) => s.entitlementId)));
          }
          for (const device of ['mac', 'pc']) {
            expect(new Set(table.ofDevice(device).map((s) => s.entitlementId))).toEqual(new Set([...latest.values()].filter((s) => s.devices.some((d) => d.deviceId === device)).map((s) => s.entitlementId)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes lines another table restores to the same states, whatever it held before', () => {
    fc.assert(
      fc.property(fc.array(stateArb('x', 'c'), { minLength: 1, maxLength: 1 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), stateArb('y', 'd')), { maxLength: 30 }), ([x], ys) => {
        const table = new EntitlementTable();
        table.putIfNewer(x!);
        for (const [i, y] of ys) table.putIfNewer({ ...y, entitlementId: `y${i}`, customerId: `d${i % 4}` });
        const back = new EntitlementTable();
        const profiles = new Map<number, number>();
        for (const line of table.lines()) back.restoreLine(JSON.parse(line), profiles);
        expect([...back.states()]).toStrictEqual([...table.states()]);
        // Profiles no entitlement uses any more are not written.
        expect({ ...back.size, profiles: 0 }).toEqual({ ...table.size, profiles: 0 });
        expect(back.size.profiles).toBeLessThanOrEqual(table.size.profiles);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a customer\'s subjects current when one of its entitlements changes or a new one arrives', () => {
    const table = new EntitlementTable();
    const base: EntitlementV1 = {
      entitlementId: 'e1', customerId: 'c', productId: 'p', planId: 'pro', planSku: 'PRO', tier: 2, catalogVersion: 1, status: 'active', statusReason: null, seats: 20,
      assignedUsers: Array.from({ length: 18 }, (_, i) => `u${i}`), devices: [], deviceLimit: null, validFrom: '2026-01-01T00:00:00.000Z', validUntil: null, graceDays: 0,
      graceEndsAt: null, regions: null, features: { f: {} }, addOns: [], revision: 1,
    };
    table.putIfNewer(base);
    const at = Date.parse('2026-06-01T00:00:00Z');
    expect(check(table.subjectsOf('c')!, { customerId: 'c', feature: 'f', userId: 'u17', atMs: at }).code).toBe('OK');
    table.putIfNewer({ ...base, assignedUsers: base.assignedUsers.slice(0, 17), revision: 2 });
    expect(check(table.subjectsOf('c')!, { customerId: 'c', feature: 'f', userId: 'u17', atMs: at }).code).toBe('SEAT_NOT_ASSIGNED');
    table.putIfNewer({ ...base, entitlementId: 'e2', features: { g: {} }, revision: 1 });
    expect(check(table.subjectsOf('c')!, { customerId: 'c', feature: 'g', atMs: at }).code).toBe('OK');
    expect(table.ofUser('u17').map((s) => s.entitlementId)).toEqual(['e2']);
    expect(table.size).toMatchObject({ entitlements: 2, customers: 1, profiles: 2 });
  });

  it('keeps every entitlement\'s users through megabytes of changes, while their bytes are moved out of emptied buffers', () => {
    const emptied = jest.spyOn(StringArena.prototype as unknown as { empty(chunk: number): void }, 'empty');
    const table = new EntitlementTable();
    const state = (i: number, round: number): EntitlementV1 => ({
      entitlementId: `ent-${i}`, customerId: `c${i % 7}`, productId: 'p', planId: 'pro', planSku: 'PRO', tier: 2, catalogVersion: 1, status: 'active', statusReason: null, seats: 5,
      // Users change every round; every fifth entitlement has none in odd rounds, and every 97th a user id with a NUL in round 7.
      assignedUsers: i % 5 === 0 && round % 2 === 1 ? [] : round === 7 && i % 97 === 0 ? [`u${i}`, 'nul\u0000user'] : [`u${i}`, `guest-${i}-${round}`, `é-${round % 3}`],
      devices: [], deviceLimit: null, validFrom: '2026-01-01T00:00:00.000Z', validUntil: null, graceDays: 0, graceEndsAt: null, regions: null, features: { f: {} }, addOns: [], revision: round,
    });
    const rounds = 30;
    for (let round = 1; round <= rounds; round++) for (let i = 0; i < 5_000; i++) table.putIfNewer(state(i, round)); // ≈ 6 MB of users written
    expect(emptied).toHaveBeenCalled();
    emptied.mockRestore();
    for (let i = 0; i < 5_000; i++) expect(table.get(`ent-${i}`)).toStrictEqual(state(i, rounds));
    expect(table.ofUser('u42').map((e) => e.entitlementId)).toEqual(['ent-42']);
    expect(table.ofUser('guest-42-29')).toEqual([]);
    expect(table.ofUser('é-0').length).toBe(5_000);
  });

  it('finds a user\'s entitlements only, when another user\'s id has the same index key', () => {
    // Two ids whose 30-bit keys collide (the first pair among u0, u1, …: about 40,000 in).
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const id = `u${i}`;
      const other = seen.get(userKey(id));
      if (other !== undefined) pair = [other, id];
      else seen.set(userKey(id), id);
    }
    const [a, b] = pair;
    expect(userKey(a)).toBe(userKey(b));
    const table = new EntitlementTable();
    const state = (entitlementId: string, assignedUsers: string[], revision: number): EntitlementV1 => ({
      entitlementId, customerId: 'c', productId: 'p', planId: 'pro', planSku: 'PRO', tier: 2, catalogVersion: 1, status: 'active', statusReason: null, seats: 5,
      assignedUsers, devices: [], deviceLimit: null, validFrom: '2026-01-01T00:00:00.000Z', validUntil: null, graceDays: 0, graceEndsAt: null, regions: null, features: { f: {} }, addOns: [], revision,
    });
    const ids = (user: string) => table.ofUser(user).map((e) => e.entitlementId).sort();
    table.putIfNewer(state('e1', [a], 1));
    table.putIfNewer(state('e2', [b], 1));
    table.putIfNewer(state('e3', [a, b], 1));
    expect([ids(a), ids(b)]).toEqual([['e1', 'e3'], ['e2', 'e3']]);
    // One of the two leaves e3: the other still finds it there.
    table.putIfNewer(state('e3', [b], 2));
    expect([ids(a), ids(b)]).toEqual([['e1'], ['e2', 'e3']]);
    table.putIfNewer(state('e2', [], 2));
    table.putIfNewer(state('e3', [], 3));
    expect([ids(a), ids(b)]).toEqual([['e1'], []]);
  });
});
