import type { UsageResultV1 } from '@el/contracts';
import { UsageGroupCommit } from './usage-group-commit';
import type { UsageLedger } from './usage-ledger';

/** A ledger whose ingests finish when the test says so, recording the groups it was given. */
function heldLedger() {
  const groups: unknown[][] = [];
  const finish: ((fail?: Error) => void)[] = [];
  const ledger = {
    parallelIngests: 1,
    ingest: (events: readonly unknown[]) =>
      new Promise<UsageResultV1[]>((resolve, reject) => {
        groups.push([...events]);
        finish.push((fail) => (fail ? reject(fail) : resolve(events.map((e) => ({ source: 'urn:test', id: String(e), status: 'accepted' as const })))));
      }),
  } as unknown as UsageLedger;
  return { ledger, groups, finish };
}

describe('UsageGroupCommit', () => {
  it('records the events handed in while an ingest commits together in the next one, each caller with its own result', async () => {
    const { ledger, groups, finish } = heldLedger();
    const usage = new UsageGroupCommit(ledger);
    const first = usage.record('a');
    const rest = ['b', 'c', 'd'].map((e) => usage.record(e));
    expect(groups).toEqual([['a']]);
    finish[0]!();
    expect((await first).id).toBe('a');
    await new Promise((r) => setImmediate(r));
    expect(groups).toEqual([['a'], ['b', 'c', 'd']]);
    finish[1]!();
    expect((await Promise.all(rest)).map((r) => r.id)).toEqual(['b', 'c', 'd']);
  });

  it('answers no caller before the ingest holding its event has finished', async () => {
    const { ledger, finish } = heldLedger();
    const usage = new UsageGroupCommit(ledger);
    let answered = false;
    void usage.record('a').then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    finish[0]!();
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(true);
  });

  it('fails every event of a failed ingest, and goes on with the next group', async () => {
    const { ledger, groups, finish } = heldLedger();
    const usage = new UsageGroupCommit(ledger);
    const a = usage.record('a');
    const b = usage.record('b');
    const c = usage.record('c');
    finish[0]!(); // ['a']
    await a;
    await new Promise((r) => setImmediate(r));
    expect(groups[1]).toEqual(['b', 'c']);
    finish[1]!(new Error('database gone'));
    await expect(b).rejects.toThrow('database gone');
    await expect(c).rejects.toThrow('database gone');
    const d = usage.record('d');
    expect(groups[2]).toEqual(['d']);
    finish[2]!();
    expect((await d).status).toBe('accepted');
  });

  it('puts at most 1,000 events in one ingest (a POST /v1/usage batch)', async () => {
    const { ledger, groups, finish } = heldLedger();
    const usage = new UsageGroupCommit(ledger);
    const all = Array.from({ length: 2501 }, (_, i) => usage.record(i));
    for (let g = 0; g < 4; g++) {
      finish[g]!();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(groups.map((g) => g.length)).toEqual([1, 1000, 1000, 500]);
  });
});
