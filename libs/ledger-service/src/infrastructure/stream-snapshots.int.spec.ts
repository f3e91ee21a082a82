import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSnapshotStore } from '@el/event-store';
import { HealthRegistry, Metrics } from '@el/platform';
import type { LedgerConfig } from '../ledger.config';
import { StreamSnapshots } from './stream-snapshots';

describe('StreamSnapshots', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'el-snapshots-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Loads at revisions 0…last (each state holding `sizeAt(revision)` items); the revisions written to the file. */
  async function written(every: number, last: number, sizeAt: (revision: number) => number): Promise<number[]> {
    const path = join(dir, `snapshots-${every}-${last}.db`);
    const snapshots = new StreamSnapshots({ SNAPSHOT_EVERY: every, SNAPSHOT_PATH: path } as unknown as LedgerConfig, new Metrics(), new HealthRegistry());
    const file = SqliteSnapshotStore.open(path);
    const revisions: number[] = [];
    try {
      for (let revision = 0; revision <= last; revision++) {
        snapshots.loaded({ stream: 's-1', version: 'v1', revision, position: revision + 1, state: { revision } }, sizeAt(revision));
        await new Promise((r) => setImmediate(r)); // the write runs after the command
        const inFile = file.load<{ revision: number }>('s-1', 'v1')?.revision;
        if (inFile !== undefined && inFile !== revisions[revisions.length - 1]) revisions.push(inFile);
      }
    } finally {
      file.close();
      snapshots.onModuleDestroy();
    }
    return revisions;
  }

  it('writes a small state every SNAPSHOT_EVERY events', async () => {
    expect(await written(10, 50, () => 3)).toEqual([9, 19, 29, 39, 49]);
  });

  it('writes a large state at most every tenth of its size in events, so the cost per event does not grow with it', async () => {
    // 1,000 items: every 100 events, not every 10.
    expect(await written(10, 350, () => 1_000)).toEqual([99, 199, 299]);
    // Growing by one item an event (seats accumulating): every 10 events up to 100 items, then wider apart.
    const growing = await written(10, 300, (revision) => revision + 1);
    const gaps = growing.slice(1).map((r, i) => r - growing[i]!);
    expect(growing.slice(0, 10)).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
    expect(gaps.every((gap, i) => gap >= Math.max(10, Math.ceil((growing[i + 1]! + 1) / 10)))).toBe(true);
    expect(growing[growing.length - 1]).toBeGreaterThan(270);
  });
});
