import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ENTITLEMENT_FOLD_VERSION, entitlementStream, foldEntitlement, type EntitlementEvent, type EntitlementState } from '@el/domain';
import { SqliteSnapshotStore } from '@el/event-store';
import { grantAsOperator, OPERATOR as op, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

/**
 * Entitlement streams are loaded from their newest snapshot and the events
 * after it (SNAPSHOT_EVERY = 10 here): the state is the whole stream's, a
 * retried command whose events lie before the snapshot is still replayed, and
 * a snapshot of another fold version, or none at all, changes nothing.
 */
describe('stream snapshots of entitlements', () => {
  let t: LedgerTestApp;
  const env = { QUERY_WAIT_MS: '100', SNAPSHOT_EVERY: '10' };
  beforeEach(async () => (t = await startLedgerApp({ env })));
  afterEach(() => t.close(true));
  /** A new process on the same data: nothing in memory, the snapshot file as it was left. */
  const restart = async () => {
    await t.close();
    t = await startLedgerApp({ dataDir: t.dataDir, env });
  };

  const snapshots = () => SqliteSnapshotStore.open(join(t.dataDir, 'snapshots.db'));
  const assign = (id: string, userId: string, key = `assign-${userId}`) => t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId }, { ...op, 'idempotency-key': key });
  const release = (id: string, userId: string) => t.http('DELETE', `/v1/entitlements/${id}/seat-assignments/${userId}`, undefined, op);
  /** The fold of the stream's first `count` events (all of them by default), from the log itself. */
  const folded = async (id: string, count?: number) =>
    foldEntitlement((await t.store.readStream(entitlementStream(id), count === undefined ? {} : { maxCount: count })).map((r) => ({ type: r.type, data: r.data, metadata: r.metadata }) as unknown as EntitlementEvent));

  it('writes a snapshot once a load read SNAPSHOT_EVERY events, and folds only the events after it', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 50);
    for (let i = 0; i < 35; i++) expect((await assign(id, `user-${i}`)).status).toBe(200);
    const store = snapshots();
    try {
      const snap = store.load<EntitlementState>(entitlementStream(id), ENTITLEMENT_FOLD_VERSION);
      // Each command loads the stream first: a load that read 10 events past the last snapshot wrote one (at revisions 9, 19, 29).
      expect(snap).not.toBeNull();
      expect(snap!.revision).toBe(29);
      // The state of exactly the events up to its revision, as JSON (its users an array).
      expect(snap!.state).toEqual(JSON.parse(JSON.stringify(await folded(id, snap!.revision + 1))));
    } finally {
      store.close();
    }
    // After a restart the state comes from the file's snapshot and the events after it.
    await restart();
    const view = (await t.http('GET', `/v1/entitlements/${id}`)).body;
    expect(view.revision).toBe(35);
    expect(view.assignedUsers).toEqual(Array.from({ length: 35 }, (_, i) => `user-${i}`));
    // The next command decides on the whole state: seat 36 of 50 is fine, the 51st is refused.
    for (let i = 35; i < 50; i++) expect((await assign(id, `user-${i}`)).status).toBe(200);
    expect((await assign(id, 'one-too-many')).body.code).toBe('SEAT.NONE_AVAILABLE');
    const whole = await folded(id);
    const users = whole.status === 'none' ? [] : whole.assignedUsers.toArray();
    expect(users).toHaveLength(50);
    expect((await t.http('GET', `/v1/entitlements/${id}`)).body.assignedUsers).toEqual(users);
  });

  it('replays a retried command whose events lie before the snapshot (found by their ids), and refuses its key with another request', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 50);
    const first = await assign(id, 'user-0');
    for (let i = 1; i < 25; i++) await assign(id, `user-${i}`);
    await release(id, 'user-0');
    await restart();
    // user-0 holds no seat now: a new assignment would be written; the retry of the first one is a replay.
    const retry = await assign(id, 'user-0');
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ replayed: true, revision: first.body.revision, position: first.body.position });
    const reused = await assign(id, 'someone-else', 'assign-user-0');
    expect(reused.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
  });

  it('ignores a snapshot of another fold version, and works without the file', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 50);
    for (let i = 0; i < 12; i++) await assign(id, `user-${i}`);
    await new Promise((r) => setImmediate(r)); // the snapshot at revision 9 is written after its command
    const store = snapshots();
    try {
      // What an older evolve might have made: another version, so it must not be used.
      store.save({ stream: entitlementStream(id), version: 'entitlement-0+v1', revision: 12, position: 1, state: { status: 'revoked' } });
      expect(store.load(entitlementStream(id), ENTITLEMENT_FOLD_VERSION)).toBeNull();
    } finally {
      store.close();
    }
    await restart();
    const view = (await t.http('GET', `/v1/entitlements/${id}`)).body;
    expect(view).toMatchObject({ status: 'active', revision: 12 });
    expect(view.assignedUsers).toHaveLength(12);
    expect((await assign(id, 'user-12')).status).toBe(200);
    // Without the file at all: folded from the start, and the file made again.
    await t.close();
    rmSync(join(t.dataDir, 'snapshots.db'));
    t = await startLedgerApp({ dataDir: t.dataDir, env });
    expect((await t.http('GET', `/v1/entitlements/${id}`)).body).toMatchObject({ status: 'active', revision: 13 });
  });
});
