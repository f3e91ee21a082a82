import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { EventStore, ReadAllOptions } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { InProcessIntegrationEvents } from '@el/messaging';
import { Keystore, SystemClock } from '@el/platform';
import { openReadModels, type ReadDbConfig } from '@el/read-models';
import { tempEventStore } from '@el/read-models/testing';
import { describeBackend, READ_DB_BACKENDS, type TestReadDb } from '@el/testing';
import { AuditLog } from '../log/audit-log';
import { AUDIT_SCHEMA } from '../store/schema';
import { TREE_HEAD_KEY_USE } from '../tree-heads/tree-head';
import { TreeHeads } from '../tree-heads/tree-heads';
import { checkStore } from './check-store';

for (const backend of READ_DB_BACKENDS) {
  describeBackend(backend, 'check-store against a live log', () => {
    let db: TestReadDb;
    let ds: DataSource;
    let ledger: ReturnType<typeof tempEventStore>;
    let keysDir: string;
    let keystore: Keystore;
    let log: AuditLog;
    let heads: TreeHeads;
    let writer: LedgerLog;

    /** Everything the event store holds past the audit log, into the audit log (a head every 40 events), as the feed does. */
    const catchUp = async () => {
      for (;;) {
        const page = await ledger.store.readAll({ after: log.lastPosition, maxCount: 100 });
        if (page.length === 0) return;
        await log.append(page);
        await heads.afterAppend();
      }
    };

    beforeEach(async () => {
      db = await backend.create();
      ds = await openReadModels(db.kind === 'sqlite' ? ({ kind: 'sqlite', path: db.path } as ReadDbConfig) : { kind: 'postgres', url: db.url, poolSize: 5 }, AUDIT_SCHEMA);
      ledger = tempEventStore();
      keysDir = mkdtempSync(join(tmpdir(), 'el-audit-keys-'));
      keystore = await Keystore.open(keysDir, { create: true, overlapDays: 1, now: new Date(), use: TREE_HEAD_KEY_USE, kidPrefix: 'audit-' });
      log = new AuditLog(ds);
      heads = new TreeHeads(log, keystore, new InProcessIntegrationEvents(ledger.store), new SystemClock(), 40);
      writer = new LedgerLog(ledger.store);
      await writer.scenario(40, 4);
      await catchUp();
    });
    afterEach(async () => {
      await ds.destroy();
      await ledger.cleanup();
      rmSync(keysDir, { recursive: true, force: true });
      await db.cleanup();
    });

    it('compares page by page, reporting progress, and hands the event loop back between pages', async () => {
      let turns = 0;
      let spinning = true;
      const spin = () => {
        turns += 1;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      const progress: [number, number][] = [];
      const report = await checkStore(ledger.store, ds, keystore.jwks(new Date()), { pageSize: 20, onProgress: (done, total) => progress.push([done, total]) });
      spinning = false;
      expect(report).toMatchObject({ ok: true, events: log.size, notYetLogged: 0, findings: [] });
      expect(report.treeHeads).toBeGreaterThan(1);
      const pages = Math.ceil(log.size / 20);
      expect(progress.length).toBeGreaterThanOrEqual(pages);
      expect(progress[0]).toEqual([20, log.size]);
      expect(progress[progress.length - 1]).toEqual([log.size, log.size]);
      // Other work ran between the pages (on SQLite every read is synchronous: without the hand-back, none would).
      expect(turns).toBeGreaterThanOrEqual(pages);
    });

    it('does not take a head signed while it runs, over leaves it has not read, for a discrepancy', async () => {
      const lastLogged = log.lastPosition;
      let grew = false;
      // The ledger and the audit log move on just after the check has read the last leaf it will read.
      const live: EventStore = Object.assign(Object.create(ledger.store) as EventStore, {
        readAll: async (options: ReadAllOptions) => {
          if (!grew && (options.after ?? 0) >= lastLogged) {
            grew = true;
            await writer.orderGrant('SO-late', 'cust-late', 'ent-late', 'ANL-PRO', 1);
            await catchUp();
            await heads.sign();
          }
          return ledger.store.readAll(options);
        },
      });
      const before = log.size;
      const report = await checkStore(live, ds, keystore.jwks(new Date()), { pageSize: 20 });
      expect(grew).toBe(true);
      expect(log.size).toBeGreaterThan(before);
      expect(report).toMatchObject({ ok: true, events: before, findings: [] });
      expect(report.notYetLogged).toBe(log.size - before);
      // The next check covers the new leaves and the new head.
      expect(await checkStore(ledger.store, ds, keystore.jwks(new Date()))).toMatchObject({ ok: true, events: log.size });
    });

    it('stops at the next page when its signal is aborted', async () => {
      const stop = new AbortController();
      const reading = checkStore(ledger.store, ds, keystore.jwks(new Date()), { pageSize: 20, signal: stop.signal, onProgress: () => stop.abort(new Error('shutting down')) });
      await expect(reading).rejects.toThrow('shutting down');
    });
  });
}
