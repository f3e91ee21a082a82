import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { eventStoreContract } from '../testing/event-store.contract';
import { SqliteEventStore, type FlushStats } from './sqlite-event-store';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'el-store-'));
}

eventStoreContract(
  'SQLite (file, WAL, synchronous=FULL)',
  async () => {
    const dir = tempDir();
    const path = join(dir, 'events.db');
    let store = SqliteEventStore.open({ path });
    return {
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = SqliteEventStore.open({ path });
        return store;
      },
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { densePositions: true },
);

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

  it('sees appends committed by another connection to the same file (multi-process sharing)', async () => {
    const path = join(dir, 'shared.db');
    const reader = SqliteEventStore.open({ path, pollIntervalMs: 10 });
    const writer = SqliteEventStore.open({ path });
    const seen: string[] = [];
    const sub = reader.subscribeAll((b) => void seen.push(...b.map((e) => e.stream)));
    await writer.append('from-writer', [ev(), ev()]);
    const deadline = Date.now() + 5000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await sub.stop();
    expect(seen).toEqual(['from-writer', 'from-writer']);
    await writer.close();
    await reader.close();
  });

  it('uses WAL and synchronous=FULL by default', async () => {
    const probe = SqliteEventStore.open({ path: join(dir, 'probe.db') });
    expect(probe.settings()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
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
