import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreVerification } from '@el/audit-service';
import { until } from '@el/testing';
import { startEmbeddedApp, type EmbeddedApp, type Reply } from './testing/embedded-app';

function order(orderId: string, customerId: string, quantity: number) {
  return { orderId, customerId, lines: [{ lineId: '10', sku: 'ANL-PRO', quantity, action: 'new' }] };
}

/** An auditor checks the stores from the console: POST /v1/audit/verifications, then GET …/latest until it has finished. */
describe('audit: store verification over HTTP (check-store in the background)', () => {
  let t: EmbeddedApp;
  let auditor: Record<string, string>;
  let auditorId: string;

  beforeAll(async () => {
    t = await startEmbeddedApp({ AUDIT_TREE_HEAD_EVERY_EVENTS: '4' });
    auditor = await t.keyFor('auditor');
    auditorId = `key:${/elk_([0-9a-f]{16})_/.exec(auditor['authorization']!)![1]}`;
  });
  afterAll(() => t.close());

  /** Polls the newest run, as a console would, until it has finished; every answer on the way is a consistent run. */
  async function finished(id: string): Promise<StoreVerification> {
    return until(`verification ${id} to finish`, async () => {
      const res: Reply<StoreVerification> = await t.http('GET', '/v1/audit/verifications/latest', undefined, auditor);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(id);
      expect(res.body.progress.done).toBeLessThanOrEqual(res.body.progress.total);
      if (res.body.state === 'running') {
        expect([res.body.finishedAt, res.body.report]).toEqual([null, null]);
        return false;
      }
      return res.body;
    });
  }

  it('answers 404 AUDIT.NO_VERIFICATION before any run', async () => {
    expect(await t.http('GET', '/v1/audit/verifications/latest', undefined, auditor)).toMatchObject({ status: 404, body: { code: 'AUDIT.NO_VERIFICATION' } });
  });

  it('passes on untouched stores; one run at a time; fails naming the position once an event is altered in the event store, or in the audit store', async () => {
    for (let i = 1; i <= 6; i++) expect((await t.http('POST', '/v1/orders', order(`SO-${i}`, i % 2 ? 'acme' : 'globex', i))).status).toBe(201);
    await t.auditAtHead();
    const logged = await t.store.headPosition();

    const started = await t.http<StoreVerification>('POST', '/v1/audit/verifications', undefined, auditor);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ state: 'running', requestedBy: auditorId, finishedAt: null, report: null, progress: { done: 0 } });
    expect(Date.parse(started.body.startedAt)).not.toBeNaN();
    // Asked again while it runs: the same run, never a second one.
    const again = await t.http<StoreVerification>('POST', '/v1/audit/verifications', undefined, await t.keyFor('operator'));
    expect(again).toMatchObject({ status: 202, body: { id: started.body.id, requestedBy: auditorId } });

    const passed = await finished(started.body.id);
    expect(passed).toMatchObject({ state: 'passed', requestedBy: auditorId, report: { ok: true, findings: [] } });
    expect(passed.report!.events).toBeGreaterThanOrEqual(logged);
    expect(passed.report!.treeHeads).toBeGreaterThan(0);
    expect(passed.progress).toEqual({ done: passed.report!.events, total: passed.report!.events });
    expect(Date.parse(passed.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(passed.startedAt));
    expect(passed).not.toHaveProperty('error');

    // Someone edits events.db behind the ledger's back: "globex" becomes "globey" in a grant's data.
    const granted = (await t.http('GET', '/v1/audit/history?customerId=globex&types=EntitlementGranted', undefined, auditor)).body.items[0];
    const restore = alter(join(t.dataDir, 'events.db'), 'events', 'data', granted.position);
    const second = await t.http<StoreVerification>('POST', '/v1/audit/verifications', undefined, auditor);
    expect(second.status).toBe(202);
    expect(second.body.id).not.toBe(started.body.id);
    const failed = await finished(second.body.id);
    expect(failed).toMatchObject({ state: 'failed', report: { ok: false } });
    expect(failed.report!.findings).toContainEqual({ store: 'event store', position: granted.position, problem: 'altered', detail: expect.stringContaining(`position ${granted.position}`) });
    restore();

    // The audit store's copy instead: found there.
    const restoreAudit = alter(join(t.dataDir, 'audit.db'), 'au_leaves', 'entry', granted.position);
    const third = await t.http<StoreVerification>('POST', '/v1/audit/verifications', undefined, auditor);
    const failedAudit = await finished(third.body.id);
    expect(failedAudit.state).toBe('failed');
    expect(failedAudit.report!.findings).toContainEqual(expect.objectContaining({ store: 'audit store', position: granted.position, problem: 'altered' }));
    restoreAudit();

    // Put back as it was: passes again, and the newest run is the one answered.
    const fourth = await t.http<StoreVerification>('POST', '/v1/audit/verifications', undefined, auditor);
    expect((await finished(fourth.body.id)).state).toBe('passed');
  });

  it('is for auditors, operators and admins (audit:read): a customer admin is refused', async () => {
    const customerAdmin = await t.keyFor('customer-admin', ['acme']);
    expect((await t.http('POST', '/v1/audit/verifications', undefined, customerAdmin)).body.code).toBe('AUTH.FORBIDDEN');
    expect((await t.http('GET', '/v1/audit/verifications/latest', undefined, customerAdmin)).body.code).toBe('AUTH.FORBIDDEN');
  });

  it('is documented in OpenAPI with the run\'s schema', async () => {
    const doc = (await t.http('GET', '/docs/openapi.json', undefined, { authorization: '' })).body;
    const schemaOf = (ref: string) => doc.components.schemas[ref.split('/').pop()!];
    const accepted = schemaOf(doc.paths['/v1/audit/verifications'].post.responses['202'].content['application/json'].schema.$ref);
    const latest = schemaOf(doc.paths['/v1/audit/verifications/latest'].get.responses['200'].content['application/json'].schema.$ref);
    expect(accepted).toEqual(latest);
    expect(Object.keys(latest.properties).sort()).toEqual(['error', 'finishedAt', 'id', 'progress', 'report', 'requestedBy', 'startedAt', 'state']);
    expect(latest.properties.state.enum).toEqual(['running', 'passed', 'failed', 'error']);
    expect(doc.paths['/v1/audit/verifications/latest'].get.responses['404']).toBeDefined();
  });
});

/** Changes one character of the data of the stored event at a position (same length); returns a function that puts it back. */
function alter(file: string, table: string, column: string, position: number): () => void {
  const db = new Database(file);
  try {
    const { v } = db.prepare(`SELECT ${column} AS v FROM ${table} WHERE position = ?`).get(position) as { v: string };
    const altered = v.replace('globex', 'globey');
    expect(altered).not.toBe(v);
    db.prepare(`UPDATE ${table} SET ${column} = ? WHERE position = ?`).run(altered, position);
    return () => {
      const again = new Database(file);
      again.prepare(`UPDATE ${table} SET ${column} = ? WHERE position = ?`).run(v, position);
      again.close();
    };
  } finally {
    db.close();
  }
}
