import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditEntry, entryLeafHash, rootOf } from '@el/audit-service';
import { SqliteEventStore } from '@el/event-store';
import { until } from '@el/testing';
import { ROOT, start, type Running } from './testing/embedded-process';

const AUDIT_CLI = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'audit-cli.js');

/** Every stored event's leaf hash, in position order: the tree built from scratch. */
async function leavesOf(path: string): Promise<Buffer[]> {
  const store = SqliteEventStore.open({ path });
  try {
    const leaves: Buffer[] = [];
    for (let after = 0; ; ) {
      const page = await store.readAll({ after, maxCount: 5000 });
      if (page.length === 0) return leaves;
      for (const e of page) leaves.push(entryLeafHash(auditEntry(e)));
      after = page[page.length - 1]!.position;
    }
  } finally {
    await store.close();
  }
}

async function auditHealth(app: Running): Promise<{ events: number; head: number }> {
  const body = (await (await app.fetch('/health')).json()) as { components: { audit: { events: number }; eventStore: { head: number } } };
  return { events: body.components.audit.events, head: body.components.eventStore.head };
}

/**
 * kill -9 of the process while the audit feed is catching up on a long log:
 * after a restart it resumes from what it committed, and the tree it ends with
 * is the one a from-scratch build gives — same root at the same size — with
 * every tree head signed before the crash still a root of it.
 */
describe('audit: kill -9 mid-stream', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'el-audit-crash-'));
  const running: Running[] = [];

  afterAll(() => {
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes with a tree identical to a from-scratch build', async () => {
    const env = { DATA_DIR: dataDir, AUDIT_TREE_HEAD_EVERY_EVENTS: '500' };
    // A first start writes the catalog and the admin key; then the log grows by 40,000 events while it is down.
    let app = await start(env);
    running.push(app);
    expect((await app.fetch('/health')).status).toBe(200);
    app.child.kill('SIGTERM');
    await app.exited;
    const events = join(dataDir, 'events.db');
    const store = SqliteEventStore.open({ path: events });
    for (let s = 0; s < 400; s++) {
      const stream = `audit-test-${s}`;
      await store.append(stream, Array.from({ length: 100 }, (_, i) => ({ id: randomUUID(), type: 'AuditTestRecorded', data: { stream: s, n: i, note: `event ${i} of stream ${s}`, nested: { at: [s, i], ok: i % 2 === 0 } }, metadata: { correlationId: `c-${s}`, causationId: `c-${s}`, actor: { type: 'system', id: 'test' }, source: 'system', recordedAt: new Date().toISOString(), effectiveAt: new Date().toISOString(), schemaVersion: 1 } })));
    }
    await store.close();

    // The audit feed catches up on the 40,000 events; kill -9 once it is well under way.
    app = await start(env);
    running.push(app);
    const at = await until(
      'the audit log to be part of the way through',
      async () => {
        const h = await auditHealth(app);
        return h.events > 2000 && h.events < h.head - 2000 ? h : null;
      },
      { timeoutMs: 60_000, intervalMs: 5 },
    );
    app.child.kill('SIGKILL');
    expect((await app.exited).signal).toBe('SIGKILL');

    app = await start(env);
    running.push(app);
    const done = await until('the audit log to reach the head', async () => {
      const h = await auditHealth(app);
      return h.events > 0 && h.events >= h.head ? h : null;
    }, { timeoutMs: 60_000, intervalMs: 50 });
    expect(done.events).toBeGreaterThan(at.events);

    const leaves = await leavesOf(events);
    const latest = (await (await app.fetch('/v1/audit/tree-heads/latest')).json()) as { treeSize: number; rootHash: string };
    expect(latest.treeSize).toBe(leaves.length);
    expect(latest.rootHash).toBe(rootOf(leaves).toString('hex'));
    // Heads signed before the crash and after: each is the from-scratch root of its size.
    const heads = (await (await app.fetch('/v1/audit/tree-heads?limit=1000')).json()) as { items: { treeSize: number; rootHash: string }[] };
    expect(heads.items.length).toBeGreaterThan(20);
    expect(heads.items.some((h) => h.treeSize <= at.events)).toBe(true);
    for (const h of heads.items) expect([h.treeSize, h.rootHash]).toEqual([h.treeSize, rootOf(leaves, h.treeSize).toString('hex')]);

    app.child.kill('SIGTERM');
    await app.exited;
    const check = spawnSync(process.execPath, [AUDIT_CLI, 'check-store'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });
    expect([check.status, check.stdout]).toEqual([0, expect.stringContaining(`consistent: ${leaves.length.toLocaleString('en-US')} events`)]);
  }, 240_000);
});
