import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { EventStore, ReadAllOptions } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { InProcessIntegrationEvents } from '@el/messaging';
import { Keystore, RandomIdGenerator, SystemClock } from '@el/platform';
import { openReadModels } from '@el/read-models';
import { tempEventStore } from '@el/read-models/testing';
import { sqliteBackend, until, type TestReadDb } from '@el/testing';
import { AuditLog } from '../log/audit-log';
import { AUDIT_SCHEMA } from '../store/schema';
import { TREE_HEAD_KEY_USE } from '../tree-heads/tree-head';
import { TreeHeads } from '../tree-heads/tree-heads';
import { StoreVerifications } from './store-verifications';

/** The background runs behind POST /v1/audit/verifications, with an event store the test can hold mid-run. */
describe('store verifications: one background check-store at a time, with its progress', () => {
  let db: TestReadDb;
  let ds: DataSource;
  let ledger: ReturnType<typeof tempEventStore>;
  let keysDir: string;
  let keystore: Keystore;
  let log: AuditLog;
  /** Opened by the test: until then, the run waits at its second page of events. */
  let release: () => void;
  let gate: Promise<void>;
  let failWith: Error | null;

  beforeAll(async () => {
    db = await sqliteBackend.create();
    if (db.kind !== 'sqlite') throw new Error('a SQLite audit store was expected');
    ds = await openReadModels({ kind: 'sqlite', path: db.path }, AUDIT_SCHEMA);
    ledger = tempEventStore();
    keysDir = mkdtempSync(join(tmpdir(), 'el-audit-keys-'));
    keystore = await Keystore.open(keysDir, { create: true, overlapDays: 1, now: new Date(), use: TREE_HEAD_KEY_USE, kidPrefix: 'audit-' });
    log = new AuditLog(ds);
    const heads = new TreeHeads(log, keystore, new InProcessIntegrationEvents(ledger.store), new SystemClock(), 500);
    // Over two pages of 1,000 events.
    await new LedgerLog(ledger.store).scenario(400, 40);
    for (;;) {
      const page = await ledger.store.readAll({ after: log.lastPosition, maxCount: 500 });
      if (page.length === 0) break;
      await log.append(page);
      await heads.afterAppend();
    }
    expect(log.size).toBeGreaterThan(1_500);
  });
  afterAll(async () => {
    await ds.destroy();
    await ledger.cleanup();
    rmSync(keysDir, { recursive: true, force: true });
    await db.cleanup();
  });

  const held = (): EventStore =>
    Object.assign(Object.create(ledger.store) as EventStore, {
      readAll: async (options: ReadAllOptions) => {
        if ((options.after ?? 0) > 0) await gate;
        if (failWith) throw failWith;
        return ledger.store.readAll(options);
      },
    });
  const verifications = () => new StoreVerifications(held(), ds, keystore, log, new SystemClock(), new RandomIdGenerator());
  beforeEach(() => {
    gate = new Promise((resolve) => (release = resolve));
    failWith = null;
  });

  it('shows the run in progress, answers it again instead of starting another, then its report', async () => {
    const v = verifications();
    expect(v.latest()).toBeNull();
    const run = v.start('key:auditor');
    expect(run).toMatchObject({ state: 'running', requestedBy: 'key:auditor', finishedAt: null, report: null, progress: { done: 0, total: log.size } });
    // Held at the second page: the first page's progress is visible.
    const midway = await until('the first page compared', () => (v.latest()!.progress.done > 0 ? v.latest() : null));
    expect(midway).toMatchObject({ id: run.id, state: 'running', progress: { done: 1_000, total: log.size } });
    expect(v.start('key:operator')).toMatchObject({ id: run.id, requestedBy: 'key:auditor', state: 'running' });
    release();
    const done = await until('the run to finish', () => (v.latest()!.state !== 'running' ? v.latest() : null));
    expect(done).toMatchObject({ id: run.id, state: 'passed', progress: { done: log.size, total: log.size }, report: { ok: true, events: log.size, findings: [] } });
    expect(done!.finishedAt).not.toBeNull();
    // Finished: the next request starts a new run.
    const next = v.start('key:operator');
    expect(next.id).not.toBe(run.id);
    await until('the second run to finish', () => v.latest()!.state === 'passed');
  });

  it('says error, with why, when the check cannot finish, and stops a run when the service shuts down', async () => {
    const v = verifications();
    failWith = new Error('the event store does not answer');
    release();
    v.start('key:auditor');
    expect(await until('the run to end', () => (v.latest()!.state !== 'running' ? v.latest() : null))).toMatchObject({ state: 'error', error: 'the event store does not answer', report: null });

    failWith = null;
    gate = new Promise((resolve) => (release = resolve));
    const running = v.start('key:auditor');
    await until('the first page compared', () => v.latest()!.progress.done > 0);
    const shutdown = v.beforeApplicationShutdown();
    release();
    await shutdown;
    expect(v.latest()).toMatchObject({ id: running.id, state: 'error', error: 'the service shut down during the check' });
  });
});
