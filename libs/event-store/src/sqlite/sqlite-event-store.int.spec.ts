import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { eventStoreContract } from '../testing/event-store.contract';
import { SqliteEventStore, type FlushStats } from './sqlite-event-store';
import { until } from '@el/testing';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'el-store-'));
}

function fileFixture(writer: 'worker' | 'inline') {
  return async () => {
    const dir = tempDir();
    const path = join(dir, 'events.db');
    let store = SqliteEventStore.open({ path, writer });
    return {
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = SqliteEventStore.open({ path, writer });
        return store;
      },
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

eventStoreContract('SQLite (file, WAL, synchronous=FULL, writer thread)', fileFixture('worker'), { densePositions: true, globalEventIds: true });
eventStoreContract('SQLite (file, WAL, synchronous=FULL, inline writer)', fileFixture('inline'), { densePositions: true, globalEventIds: true });

describe('SQLite event store specifics', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ev = () => ({ id: randomUUID(), type: 'T', data: {}, metadata: {} });

  it('group-commits concurrent appends: fewer transactions than appends, each append its own outcome', async () => {
    const flushes: FlushStats[] = [];
    const store = SqliteEventStore.open({ path: join(dir, 'e.db'), onFlush: (f) => flushes.push(f) });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => store.append(`s-${i % 50}`, [ev(), ev()], { expectedRevision: i < 50 ? 'no_stream' : 'any' })),
    );
    // Conflicts are per append: a wrong expectation in the same batch fails only itself.
    const conflict = store.append('s-0', [ev()], { expectedRevision: 'no_stream' });
    const fine = store.append('s-1', [ev()], { expectedRevision: 'stream_exists' });
    await expect(conflict).rejects.toThrow(/expected revision no_stream/);
    await expect(fine).resolves.toMatchObject({ duplicate: false });
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(flushes.length).toBeLessThan(20);
    expect(flushes.reduce((n, f) => n + f.events, 0)).toBe(401);
    expect(await store.headPosition()).toBe(401);
    await store.close();
  });

  it('rolls back only the append whose later event id collides, even inside a group commit', async () => {
    const store = SqliteEventStore.open({ path: join(dir, 'c.db') });
    const taken = ev();
    await store.append('owner', [taken]);
    const results = await Promise.allSettled([
      store.append('good-1', [ev(), ev()]),
      store.append('bad', [ev(), taken, ev()]),
      store.append('good-2', [ev()]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe('EVENT_STORE.EVENT_ID_CONFLICT');
    expect(await store.readStream('bad')).toEqual([]);
    const all = await store.readAll();
    expect(all.map((e) => e.stream)).toEqual(['owner', 'good-1', 'good-1', 'good-2']);
    expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4]);
    await store.close();
  });

  it('decodes stored JSON on access and serialises events as plain data', async () => {
    const store = SqliteEventStore.open({ path: join(dir, 'j.db') });
    await store.append('s', [{ id: 'e-1', type: 'T', data: { a: [1, { b: 'c' }] }, metadata: { m: true } }]);
    const [e] = await store.readAll();
    expect(e!.data).toEqual({ a: [1, { b: 'c' }] });
    expect(e!.data).toBe(e!.data); // decoded once
    expect(JSON.parse(JSON.stringify(e))).toEqual({ id: 'e-1', stream: 's', revision: 0, position: 1, type: 'T', data: { a: [1, { b: 'c' }] }, metadata: { m: true }, recordedAt: e!.recordedAt });
    await store.close();
  });

  it('sees appends committed by another connection to the same file (multi-process sharing)', async () => {
    const path = join(dir, 'shared.db');
    const reader = SqliteEventStore.open({ path, pollIntervalMs: 10 });
    const writer = SqliteEventStore.open({ path });
    const seen: string[] = [];
    const sub = reader.subscribeAll((b) => void seen.push(...b.map((e) => e.stream)));
    await writer.append('from-writer', [ev(), ev()]);
    await until('the other connection\'s appends', () => seen.length >= 2, { timeoutMs: 5000, intervalMs: 5 });
    await sub.stop();
    expect(seen).toEqual(['from-writer', 'from-writer']);
    await writer.close();
    await reader.close();
  });

  it('commits checkpoints with the appends queued beside them (one transaction), durably', async () => {
    const path = join(dir, 'cp.db');
    const flushes: FlushStats[] = [];
    const store = SqliteEventStore.open({ path, onFlush: (f) => flushes.push(f) });
    await Promise.all([store.append('a', [ev()]), store.checkpoints.save('relay', 1), store.append('b', [ev()]), store.checkpoints.save('view', 2)]);
    expect(flushes).toEqual([expect.objectContaining({ appends: 2, events: 2, checkpoints: 2 })]);
    await store.close();
    const again = SqliteEventStore.open({ path });
    expect([await again.checkpoints.load('relay'), await again.checkpoints.load('view'), await again.headPosition()]).toEqual([1, 2, 2]);
    await again.close();
  });

  it('waits for another process\'s write lock without blocking the event loop, then commits', async () => {
    const path = join(dir, 'locked.db');
    const store = SqliteEventStore.open({ path });
    await store.append('before', [ev()]);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const appended = store.append('while-locked', [ev()]).finally(() => (settled = true));
    // A timer runs on time while the append waits: the loop is not held by the lock wait.
    const late = await new Promise<number>((resolve) => {
      const at = performance.now();
      setTimeout(() => resolve(performance.now() - at - 50), 50);
    });
    expect({ settled, lateMs: late < 40 }).toEqual({ settled: false, lateMs: true });
    other.exec('COMMIT');
    await expect(appended).resolves.toMatchObject({ position: 2, duplicate: false });
    other.close();
    await store.close();
  });

  it('fails the waiting appends, naming the lock, when another process holds it past lockWaitMs; the next commits', async () => {
    const path = join(dir, 'held.db');
    const store = SqliteEventStore.open({ path, lockWaitMs: 100 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    await expect(store.append('s', [ev()])).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    other.exec('ROLLBACK');
    await expect(store.append('s', [ev()], { expectedRevision: 'no_stream' })).resolves.toMatchObject({ revision: 0, position: 1 });
    other.close();
    await store.close();
  });

  it('uses WAL and synchronous=FULL by default', async () => {
    const probe = SqliteEventStore.open({ path: join(dir, 'probe.db') });
    expect(probe.settings()).toEqual({ journalMode: 'wal', synchronous: 'FULL', writer: 'inline' });
    await probe.close();
    const path = join(dir, 'p.db');
    const store = SqliteEventStore.open({ path });
    await store.append('x', [ev()]);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
