import type { EntitlementEventV1, EntitlementV1 } from '@el/contracts';
import { EnforcementView } from './enforcement-view';

const base: EntitlementV1 = {
  entitlementId: 'e1',
  customerId: 'acme',
  productId: 'analytics',
  planId: 'pro',
  planSku: 'ANL-PRO',
  tier: 1,
  catalogVersion: 1,
  status: 'active',
  statusReason: null,
  seats: 3,
  assignedUsers: [],
  devices: [],
  deviceLimit: null,
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: null,
  graceDays: 0,
  graceEndsAt: null,
  regions: null,
  features: { dashboards: {} },
  addOns: [],
  revision: 0,
};

const change = (position: number, e: Partial<EntitlementV1>): EntitlementEventV1 =>
  ({ id: `ev-${position}`, type: 'io.ledger.entitlement.seat_assigned.v1', position, data: { entitlement: { ...base, ...e } } }) as unknown as EntitlementEventV1;

const at = Date.parse('2026-06-01T00:00:00Z');

describe('EnforcementView', () => {
  it('replaces states by revision: a duplicate or an older revision changes nothing', () => {
    const view = new EnforcementView('t', 'test-scope');
    expect(view.applyChange(change(1, { revision: 0 }))).toBe(true);
    expect(view.applyChange(change(2, { revision: 1, assignedUsers: ['bob'] }))).toBe(true);
    expect(view.applyChange(change(1, { revision: 0 }))).toBe(false);
    expect(view.applyChange(change(2, { revision: 1, assignedUsers: ['bob'] }))).toBe(false);
    expect(view.entitlement('e1')!.assignedUsers).toEqual(['bob']);
    expect(view.check({ customerId: 'acme', feature: 'dashboards', userId: 'bob', atMs: at }).code).toBe('OK');
    expect(view.check({ customerId: 'acme', feature: 'dashboards', userId: 'eve', atMs: at }).code).toBe('SEAT_NOT_ASSIGNED');
  });

  it('keeps the user and device indexes in step with assignments and releases', () => {
    const view = new EnforcementView('t', 'test-scope');
    view.applyChange(change(1, { revision: 0, assignedUsers: ['bob', 'carol'], devices: [{ deviceId: 'mac', userId: 'bob' }] }));
    view.applyChange(change(2, { entitlementId: 'e2', revision: 0, assignedUsers: ['bob'] }));
    expect(view.ofUser('bob').map((e) => e.entitlementId).sort()).toEqual(['e1', 'e2']);
    view.applyChange(change(3, { revision: 1, assignedUsers: ['carol'], devices: [] }));
    expect(view.ofUser('bob').map((e) => e.entitlementId)).toEqual(['e2']);
    expect(view.ofDevice('mac')).toEqual([]);
    expect(view.ofCustomer('acme')).toHaveLength(2);
    expect(view.size).toEqual({ entitlements: 2, customers: 1, users: 2, devices: 0 });
  });

  it('takes its position from watermarks: the lowest over every partition', () => {
    const view = new EnforcementView('t', 'test-scope');
    view.applyWatermark({ position: 10, partition: 0, partitions: 3 });
    view.applyWatermark({ position: 12, partition: 1, partitions: 3 });
    expect(view.position).toBe(0);
    view.applyWatermark({ position: 8, partition: 2, partitions: 3 });
    expect(view.position).toBe(8);
    view.applyWatermark({ position: 15, partition: 2, partitions: 3 });
    expect(view.position).toBe(10);
  });

  it('wakes a waiting check when its position becomes safe, and gives up after the wait', async () => {
    const view = new EnforcementView('t', 'test-scope');
    const waiting = view.waitFor(5, 5_000);
    const late = view.waitFor(50, 30);
    view.applyWatermark({ position: 5, partition: 0, partitions: 1 });
    await expect(waiting).resolves.toBe(true);
    await expect(late).resolves.toBe(false);
    await expect(view.waitFor(3, 0)).resolves.toBe(true);
  });

  it('round-trips through a snapshot: same content, position and offsets', () => {
    const view = new EnforcementView('t', 'test-scope');
    view.applyChange(change(1, { revision: 0, assignedUsers: ['bob'] }));
    view.markRead(0, '41');
    view.applyWatermark({ position: 1, partition: 0, partitions: 1 });
    const snap = JSON.parse(JSON.stringify(view.snapshot(new Date(at))));
    const restored = new EnforcementView('t', 'test-scope', snap);
    expect(restored.snapshot(new Date(at))).toEqual(view.snapshot(new Date(at)));
    expect(restored.nextOffsets()).toEqual({ 0: '42' });
    expect(restored.ofUser('bob')).toHaveLength(1);
    expect(restored.check({ customerId: 'acme', feature: 'dashboards', userId: 'bob', atMs: at })).toEqual(view.check({ customerId: 'acme', feature: 'dashboards', userId: 'bob', atMs: at }));
  });
});
