import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { DataSource } from 'typeorm';
import { InProcessIntegrationEvents } from '@el/messaging';
import { Keystore, SystemClock } from '@el/platform';
import { openReadModels, type ReadDbConfig } from '@el/read-models';
import { tempEventStore } from '@el/read-models/testing';
import { describeBackend, READ_DB_BACKENDS, type TestReadDb } from '@el/testing';
import { rootOf } from '../merkle/merkle';
import { AUDIT_SCHEMA } from '../store/schema';
import { TreeHeadVerifier, TREE_HEAD_KEY_USE } from '../tree-heads/tree-head';
import { TreeHeads } from '../tree-heads/tree-heads';
import { AuditHistory } from '../history/audit-history';
import { auditEntry, entryLeafHash, type LoggedEvent } from './audit-entry';
import { AuditLog } from './audit-log';

const meta = (actor: string, correlationId: string) => ({ actor: { type: 'operator', id: actor }, correlationId, causationId: correlationId, source: 'api', recordedAt: '2026-12-01T00:00:00.000Z', effectiveAt: '2026-12-01T00:00:00.000Z', schemaVersion: 1 });

/** A small log: an order and its grant for acme, a later change that names no customer, and a token for globex. */
function events(): LoggedEvent[] {
  const e = (position: number, stream: string, revision: number, type: string, data: object, m = meta('key:a', `c-${position}`)): LoggedEvent => ({ id: `id-${position}`, position, stream, revision, type, data, metadata: m, recordedAt: `2026-12-01T00:00:0${position}.000Z` });
  return [
    e(1, 'order-SO-1', 0, 'OrderReceived', { orderId: 'SO-1', customerId: 'acme' }, meta('key:erp', 'corr-1')),
    e(2, 'entitlement-e1', 0, 'EntitlementGranted', { entitlementId: 'e1', customerId: 'acme', seats: 5, note: 'ü ☃ 𝄞' }, meta('key:erp', 'corr-1')),
    e(3, 'entitlement-e1', 1, 'SeatAssigned', { userId: 'ann' }),
    e(4, 'license-tokens-globex', 0, 'LicenseTokenIssued', { customerId: 'globex', entitlementIds: ['e9'] }),
    e(5, 'usage-e1/api_calls/2026-11-01T00:00:00.000Z', 0, 'UsageCorrected', { quantity: -3 }),
  ];
}

for (const backend of READ_DB_BACKENDS) {
  describeBackend(backend, 'audit log store', () => {
    let db: TestReadDb;
    const opened: DataSource[] = [];
    const open = async () => {
      const ds = await openReadModels(db.kind === 'sqlite' ? ({ kind: 'sqlite', path: db.path } as ReadDbConfig) : { kind: 'postgres', url: db.url, poolSize: 5 }, AUDIT_SCHEMA);
      opened.push(ds);
      return ds;
    };
    beforeEach(async () => (db = await backend.create()));
    afterEach(async () => {
      for (const ds of opened.splice(0)) await ds.destroy();
      await db.cleanup();
    });

    it('migrations create exactly the schema the entities describe', async () => {
      const ds = await open();
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      expect(await ds.runMigrations()).toEqual([]);
    });

    it('appends each event once, in order, reports a redelivery with other content, and rebuilds the same tree from the store', async () => {
      const log = new AuditLog(await open());
      const all = events();
      expect(await log.append(all.slice(0, 3))).toMatchObject({ appended: 3, duplicates: 0, divergent: [] });
      // A redelivered batch overlapping what is held: only the new events are added.
      expect(await log.append(all.slice(1))).toMatchObject({ appended: 2, duplicates: 2, divergent: [] });
      const altered = { ...all[2]!, data: { userId: 'bob' } };
      const outcome = await log.append([altered]);
      expect(outcome.appended).toBe(0);
      expect(outcome.divergent).toEqual([{ position: 3, held: entryLeafHash(auditEntry(all[2]!)).toString('hex'), received: entryLeafHash(auditEntry(altered)).toString('hex') }]);

      const leaves = all.map((e) => entryLeafHash(auditEntry(e)));
      expect(log.tree.root().equals(rootOf(leaves))).toBe(true);
      const again = new AuditLog(await open());
      await again.load();
      expect([again.size, again.lastPosition, again.tree.root().toString('hex')]).toEqual([5, 5, rootOf(leaves).toString('hex')]);
      // The stored entry is exactly what the leaf covers (UTF-8 beyond the BMP included).
      expect(await again.leafAt(2)).toEqual({ leafIndex: 1, entry: auditEntry(all[1]!), leafHash: leaves[1]!.toString('hex') });
    });

    it('indexes who and what each event is about: the customer of a stream whose later events do not name it, entitlements, actors, correlations', async () => {
      const log = new AuditLog(await open());
      await log.append(events());
      const history = new AuditHistory(log);
      const positions = async (kind: 'customer' | 'entitlement' | 'actor' | 'correlation', ref: string) => (await history.page({ kind, ref, cursor: -1, limit: 100 })).items.map((i) => i.position);
      expect(await positions('customer', 'acme')).toEqual([1, 2, 3, 5]);
      expect(await positions('customer', 'globex')).toEqual([4]);
      expect(await positions('entitlement', 'e1')).toEqual([2, 3, 5]);
      expect(await positions('entitlement', 'e9')).toEqual([4]);
      expect(await positions('actor', 'key:erp')).toEqual([1, 2]);
      expect(await positions('correlation', 'corr-1')).toEqual([1, 2]);
      const typed = await history.page({ kind: 'customer', ref: 'acme', types: ['SeatAssigned'], cursor: -1, limit: 100 });
      expect(typed.items.map((i) => [i.type, i.actor, i.correlationId])).toEqual([['SeatAssigned', { type: 'operator', id: 'key:a' }, 'c-3']]);
      const first = await history.page({ kind: 'customer', ref: 'acme', cursor: -1, limit: 2 });
      const second = await history.page({ kind: 'customer', ref: 'acme', cursor: first.nextCursor!, limit: 2 });
      expect([...first.items, ...second.items].map((i) => i.position)).toEqual([1, 2, 3, 5]);
      expect(second.nextCursor).toBeNull();
      // Each page says how far the audit log went: here, to the last event appended.
      expect(second.lastPosition).toBe(5);
    });

    it('signs tree heads that verify with its public key, stores them, and names the size it signed', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'el-audit-keys-'));
      const ledger = tempEventStore();
      try {
        const log = new AuditLog(await open());
        const keystore = await Keystore.open(dir, { create: true, overlapDays: 1, now: new Date(), use: TREE_HEAD_KEY_USE, kidPrefix: 'audit-' });
        const heads = new TreeHeads(log, keystore, new InProcessIntegrationEvents(ledger.store), new SystemClock(), 2);
        await log.append(events().slice(0, 3));
        await heads.afterAppend();
        const head = heads.latest!;
        expect(head).toMatchObject({ version: 'el-sth/1', treeSize: 3, lastPosition: 3, rootHash: log.tree.root().toString('hex') });
        expect(new TreeHeadVerifier(keystore.jwks(new Date())).verify(head)).toEqual({ ok: true });
        expect(new TreeHeadVerifier(keystore.jwks(new Date())).verify({ ...head, treeSize: 4 }).ok).toBe(false);
        const reloaded = new TreeHeads(log, keystore, new InProcessIntegrationEvents(ledger.store), new SystemClock(), 2);
        await reloaded.load();
        expect(reloaded.latest).toEqual(head);
        expect(await reloaded.ofSize(3)).toEqual(head);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await ledger.cleanup();
      }
    });
  });
}

