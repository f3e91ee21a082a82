import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntitlementV1 } from '@el/contracts';
import { EnforcementView, VIEW_SNAPSHOT_VERSION } from './enforcement-view';
import { SnapshotFile, SnapshotIncomplete, type FeedPosition } from './snapshot-file';

/** An entitlement's state as the relay publishes it (only what the view reads varies). */
function state(i: number, revision = 1): EntitlementV1 {
  const plan = i % 7 === 0 ? 'enterprise' : 'pro';
  return {
    entitlementId: `ent-${i}`,
    customerId: `cust-${i % 1000}`,
    productId: 'analytics',
    planId: plan,
    planSku: `ANL-${plan.toUpperCase()}`,
    tier: plan === 'pro' ? 2 : 3,
    catalogVersion: 1,
    status: i % 10 === 3 ? 'suspended' : 'active',
    statusReason: i % 10 === 3 ? 'unpaid invoice' : null,
    seats: 5,
    assignedUsers: i % 5 === 0 ? [] : [`user-${i}`, `user-${i}-b`],
    devices: i % 11 === 0 ? [{ deviceId: `dev-${i}`, userId: null }] : [],
    deviceLimit: i % 11 === 0 ? 3 : null,
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil: i % 2 ? '2027-01-01T00:00:00.000Z' : null,
    graceDays: 14,
    graceEndsAt: i % 2 ? '2027-01-15T00:00:00.000Z' : null,
    regions: plan === 'enterprise' ? ['EU', 'US'] : null,
    features: plan === 'enterprise' ? { 'reports.export': {}, sso: {} } : { 'reports.export': {} },
    addOns: i % 13 === 0 ? [{ sku: 'EXTRA', quantity: 2 }] : [],
    revision,
  };
}

describe('the enforcement view snapshot file (a line per entitlement and per plan profile)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'el-view-snapshot-'));
  const file = new SnapshotFile(join(dir, 'enforcement-view.json'));
  const feed: FeedPosition = { topic: 't', scope: 'test-scope', endOffsets: { 0: '100', 1: '100' } };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function viewOf(n: number): EnforcementView {
    const view = new EnforcementView('t', 'test-scope', { version: VIEW_SNAPSHOT_VERSION, topic: 't', scope: 'test-scope', takenAt: '2026-01-01T00:00:00.000Z', position: 7, lastEventPosition: 9, watermarks: { partitions: 2, watermarks: { 0: 7, 1: 7 } }, offsets: { 0: '40', 1: '41' }, pending: [], catalog: null, pendingCatalogs: [] });
    for (let i = 0; i < n; i++) view.restore(state(i));
    return view;
  }

  async function restored(): Promise<EnforcementView> {
    const loaded = await file.load(feed);
    if (loaded.kind !== 'loaded') throw new Error(`not loaded: ${JSON.stringify(loaded)}`);
    const view = new EnforcementView('t', 'test-scope', loaded.header);
    await view.restoreLines(loaded.lines);
    return view;
  }

  it('writes the header, a line per entitlement and per plan profile, and their count, and reads back the same states', async () => {
    const view = viewOf(5_000);
    const written = await file.save(view.snapshotHeader(new Date('2026-02-01T00:00:00Z')), view.lines());
    // Eight profiles: two plans, with and without the add-on, with and without a device limit.
    expect(written.lines).toBe(5_008);
    const lines = readFileSync(file.path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(5_010);
    expect(JSON.parse(lines[0]!)).toMatchObject({ version: VIEW_SNAPSHOT_VERSION, position: 7, offsets: { 0: '40', 1: '41' } });
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual({ end: true, lines: 5_008 });
    const back = await restored();
    expect(back.size).toEqual({ entitlements: 5_000, customers: 1_000, users: 8_000, devices: 455, profiles: 8 });
    for (let i = 0; i < 5_000; i++) expect(back.entitlement(`ent-${i}`)).toStrictEqual(state(i));
    expect(back.snapshot(new Date(0))).toEqual(view.snapshot(new Date(0)));
    expect(back.nextOffsets()).toEqual({ 0: '40', 1: '41' });
  });

  it('refuses a file cut short (no count line, or a count that differs), an older version and a header for another feed', async () => {
    const view = viewOf(3);
    await file.save(view.snapshotHeader(new Date(0)), view.lines());
    const whole = readFileSync(file.path, 'utf8');
    writeFileSync(file.path, whole.split('\n').slice(0, 3).join('\n') + '\n');
    await expect(restored()).rejects.toThrow(SnapshotIncomplete);
    // Two profiles (ent-0 is enterprise), three entitlements.
    writeFileSync(file.path, whole.replace('{"end":true,"lines":5}', '{"end":true,"lines":6}'));
    await expect(restored()).rejects.toThrow(SnapshotIncomplete);
    // An entitlement line naming a profile no line defined.
    writeFileSync(file.path, whole.replace(/\n\["p",1,[^\n]*/, ''));
    await expect(restored()).rejects.toThrow(/malformed/);
    // Version 3: the whole view as one JSON document.
    writeFileSync(file.path, JSON.stringify({ ...view.snapshot(new Date(0)), version: 3 }));
    expect(await file.load(feed)).toMatchObject({ kind: 'unusable', reason: expect.stringContaining('version 3') });
    writeFileSync(file.path, whole);
    expect(await file.load({ ...feed, scope: 'kafka:other/t' })).toMatchObject({ kind: 'unusable', reason: expect.stringContaining('kafka:other/t') });
    expect(await file.load({ ...feed, endOffsets: { 0: '10', 1: '100' } })).toMatchObject({ kind: 'unusable', reason: expect.stringContaining('past its end') });
    rmSync(file.path);
    expect(await file.load(feed)).toEqual({ kind: 'none' });
  });

  it('keeps the state before or after a change applied while the file is written', async () => {
    const view = viewOf(100_000);
    const saving = file.save(view.snapshotHeader(new Date(0)), view.lines());
    // A change applied while the snapshot is written: the file has it or the state before, never anything else.
    await new Promise((r) => setImmediate(r));
    view.restore(state(99_999, 2));
    await saving;
    const back = await restored();
    expect(back.size.entitlements).toBe(100_000);
    expect([1, 2]).toContain([...back.states()].find((s) => s.entitlementId === 'ent-99999')!.revision);
  });
});
