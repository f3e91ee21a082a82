import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { catalogPublishedV1, type CatalogPublishedV1, type EntitlementEventV1, type EntitlementV1 } from '@el/contracts';
import { parseCatalog, type Catalog } from '@el/domain';
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

const parsed = parseCatalog(parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'catalog', 'sample-catalog.yaml'), 'utf8')));
if (!parsed.ok) throw new Error('sample catalog');
const sample: Catalog = parsed.catalog;
const catalogAt = (position: number, version: number, partition = 0, label = `v${version}`): CatalogPublishedV1 =>
  catalogPublishedV1({ position, recordedAt: '2026-05-01T00:00:00.000Z', version, hash: `h${version}`, label, catalog: { ...sample, label } }, partition);

/** The relay's watermark after a batch, on a single-partition topic. */
const upTo = (view: EnforcementView, position: number) => view.applyWatermark({ position, partition: 0, partitions: 1 });

describe('EnforcementView', () => {
  it('replaces states by revision: a duplicate or an older revision changes nothing', () => {
    const view = new EnforcementView('t', 'test-scope');
    expect(view.applyChange(change(1, { revision: 0 }))).toBe(true);
    expect(view.applyChange(change(2, { revision: 1, assignedUsers: ['bob'] }))).toBe(true);
    upTo(view, 2);
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
    upTo(view, 2);
    expect(view.ofUser('bob').map((e) => e.entitlementId).sort()).toEqual(['e1', 'e2']);
    view.applyChange(change(3, { revision: 1, assignedUsers: ['carol'], devices: [] }));
    upTo(view, 3);
    expect(view.ofUser('bob').map((e) => e.entitlementId)).toEqual(['e2']);
    expect(view.ofDevice('mac')).toEqual([]);
    expect(view.ofCustomer('acme')).toHaveLength(2);
    expect(view.size).toEqual({ entitlements: 2, customers: 1, users: 2, devices: 0, profiles: 1 });
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

  it('answers at exactly its position: a change read past it waits for the watermark that covers it', () => {
    const view = new EnforcementView('t', 'test-scope');
    view.applyChange(change(1, { revision: 0 }));
    upTo(view, 1);
    // The rest of a relay batch: read, not yet covered by a watermark.
    view.applyChange(change(2, { revision: 1, status: 'suspended', statusReason: 'unpaid' }));
    view.applyChange(change(3, { revision: 2, status: 'revoked', statusReason: 'fraud' }));
    expect(view.held).toBe(2);
    expect(view.check({ customerId: 'acme', feature: 'dashboards', atMs: at }).code).toBe('OK');
    expect(view.entitlement('e1')!.revision).toBe(0);
    upTo(view, 2);
    expect({ code: view.check({ customerId: 'acme', feature: 'dashboards', atMs: at }).code, held: view.held }).toEqual({ code: 'SUSPENDED', held: 1 });
    upTo(view, 3);
    expect({ code: view.check({ customerId: 'acme', feature: 'dashboards', atMs: at }).code, held: view.held }).toEqual({ code: 'REVOKED', held: 0 });
  });

  it('applies held changes in ledger order, whichever partition was read first', () => {
    const view = new EnforcementView('t', 'test-scope');
    // Partition 1 (globex) is read before partition 0 (acme), though acme's grants came first in the ledger.
    view.applyChange(change(4, { entitlementId: 'g1', customerId: 'globex' }));
    view.applyChange(change(2, { entitlementId: 'a2' }));
    view.applyChange(change(1, { entitlementId: 'a1' }));
    view.applyWatermark({ position: 4, partition: 1, partitions: 2 });
    expect(view.size.entitlements).toBe(0);
    view.applyWatermark({ position: 4, partition: 0, partitions: 2 });
    expect(view.ofCustomer('acme').map((e) => e.entitlementId)).toEqual(['a1', 'a2']);
    expect(view.snapshot(new Date(at)).entitlements.map((e) => e.entitlementId)).toEqual(['a1', 'a2', 'g1']);
  });

  it('puts a catalog version in force at the position it was published at; other partitions\' copies and older versions change nothing', () => {
    const view = new EnforcementView('t', 'test-scope');
    expect(view.catalog).toBeNull();
    view.applyChange(change(1, { revision: 0 }));
    expect(view.applyCatalog(catalogAt(2, 1, 0))).toBe(true);
    expect(view.applyCatalog(catalogAt(2, 1, 1))).toBe(false);
    upTo(view, 1);
    expect(view.catalog).toBeNull();
    upTo(view, 2);
    expect(view.catalog).toMatchObject({ version: 1, position: 2, hash: 'h1', label: 'v1' });
    expect(view.applyCatalog(catalogAt(2, 1, 2))).toBe(false);
    // A version announced late (its position already covered) is in force at once; an older one never comes back.
    expect(view.applyCatalog(catalogAt(2, 2))).toBe(true);
    expect(view.catalog!.version).toBe(2);
    expect(view.applyCatalog(catalogAt(1, 1))).toBe(false);
    expect(view.catalog!.version).toBe(2);
  });

  it('round-trips through a snapshot: same content, position, offsets, catalog and held changes', () => {
    const view = new EnforcementView('t', 'test-scope');
    view.applyChange(change(1, { revision: 0, assignedUsers: ['bob'] }));
    view.applyCatalog(catalogAt(2, 1));
    view.markRead(0, '41');
    view.applyWatermark({ position: 2, partition: 0, partitions: 1 });
    view.applyChange(change(3, { revision: 1, assignedUsers: [] }));
    view.applyCatalog(catalogAt(4, 2));
    const snap = JSON.parse(JSON.stringify(view.snapshot(new Date(at))));
    const restored = new EnforcementView('t', 'test-scope', snap);
    expect(restored.snapshot(new Date(at))).toEqual(view.snapshot(new Date(at)));
    expect(restored.nextOffsets()).toEqual({ 0: '42' });
    expect(restored.ofUser('bob')).toHaveLength(1);
    expect(restored.catalog!.version).toBe(1);
    expect(restored.check({ customerId: 'acme', feature: 'dashboards', userId: 'bob', atMs: at })).toEqual(view.check({ customerId: 'acme', feature: 'dashboards', userId: 'bob', atMs: at }));
    // What was held is applied after the restart, as it would have been.
    upTo(restored, 4);
    expect({ users: restored.ofUser('bob'), catalog: restored.catalog!.version }).toEqual({ users: [], catalog: 2 });
  });
});
