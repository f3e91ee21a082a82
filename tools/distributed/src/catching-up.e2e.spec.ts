import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { freePort, repoRoot } from '@el/testing';

const ROOT = repoRoot(__dirname);
const EVENTS = 60_000;

interface Seen {
  readonly at: number;
  readonly list: { status: number; body: any };
  readonly check: { status: number; body: any };
  readonly view: any;
}

/**
 * The embedded process (`npm start`) started on a log it has not read: while it catches up it
 * answers, and says it is behind instead of answering from part of the history. The projector is
 * held mid-log (PROJECTOR_TEST_PAUSE_AT_POSITION), so its read models stay behind for the whole test;
 * the enforcement view replays the log meanwhile.
 */
describe('a process catching up with its log answers, and says it is behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'el-catching-up-'));
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists answer 503 READ_MODEL.BEHIND with position, head and ETA; checks answer stale: true until the view is caught up; /health/live at once', async () => {
    const store = SqliteEventStore.open({ path: join(dir, 'events.db'), synchronous: 'OFF' });
    const log = new LedgerLog(store);
    // Orders of three events each (received, granted, fulfilled), for 1,000 customers.
    for (let n = 0; (await store.headPosition()) < EVENTS; ) {
      await Promise.all(Array.from({ length: 256 }, () => (n++, log.orderGrant(`SO-${n}`, `cust-${n % 1_000}`, `ent-${n}`, 'ANL-PRO', 1))));
    }
    const head = await store.headPosition();
    await store.close();

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let out = '';
    child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dir, PORT: String(port), LOG_LEVEL: 'warn', QUERY_WAIT_MS: '100', PROJECTOR_BATCH_SIZE: '500', PROJECTOR_TEST_PAUSE_AT_POSITION: String(Math.floor(head / 2)), EXPIRY_SWEEP_INTERVAL_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8_000)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8_000)));
    const started = performance.now();
    const json = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: body as any };
    };

    // Alive from the start, whatever is left to read.
    let live: number | null = null;
    while (live === null) {
      if (child.exitCode !== null) throw new Error(`the process exited:\n${out}`);
      if (performance.now() - started > 60_000) throw new Error(`/health/live never answered:\n${out}`);
      live = await json('/health/live').then((r) => (r.status === 200 ? performance.now() - started : null), () => null);
      await new Promise((r) => setTimeout(r, 20));
    }

    const seen: Seen[] = [];
    let key = '';
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the process exited:\n${out}`);
      if (performance.now() - started > 120_000) throw new Error(`the view did not catch up within 120 s:\n${out}`);
      key ||= (() => {
        try {
          return readFileSync(join(dir, 'admin-api-key'), 'utf8').trim();
        } catch {
          return '';
        }
      })();
      const auth = { authorization: `Bearer ${key}` };
      const round = await Promise.all([
        json('/v1/entitlements?limit=5', { headers: auth }),
        json('/v1/check', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'cust-0', feature: 'reports.export' }) }),
        json('/health'),
      ]).catch(() => null); // the boot answerer closes its connections the moment the app listens
      if (!round) continue;
      const [list, check, health] = round;
      // Before the app itself listens, the port says the process is starting: nothing to judge yet.
      if (check.body?.code === 'SERVICE.STARTING') continue;
      const view = health.body?.components?.enforcementView;
      seen.push({ at: performance.now() - started, list, check, view });
      if (view?.status === 'up' && check.body?.stale === false) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    process.stderr.write(`[catching-up] ${head} events: live after ${Math.round(live)} ms; ${seen.length} rounds answered while catching up, the view caught up after ${Math.round(seen.at(-1)!.at)} ms\n`);

    // The read models are held mid-log: every list says how far they are, none answers from half the history.
    for (const s of seen) {
      expect(s.list).toMatchObject({ status: 503, body: { code: 'READ_MODEL.BEHIND', details: { head: expect.any(Number), position: expect.any(Number) } } });
      // The head at start: the seeded log and what the process itself wrote at boot (the catalog, the first admin key).
      expect(s.list.body.details.head).toBeGreaterThanOrEqual(head);
      expect(s.list.body.details.position).toBeLessThan(head);
      expect(s.list.body.message).toContain(`of ${s.list.body.details.head}`);
      expect(s.list.body.details).toHaveProperty('etaSeconds'); // null until half a second of progress gives a rate
    }
    // Checks answer throughout; until the view is caught up, each says it may be missing changes.
    const replaying = seen.filter((s) => s.check.status === 200 && s.check.body.position < head);
    expect(replaying.length).toBeGreaterThan(0);
    for (const s of replaying) expect(s.check.body.stale).toBe(true);
    for (const s of seen) expect(s.check.status).toBe(200);
    // Caught up: the customer's own entitlement decides, not stale.
    expect(seen.at(-1)!.check.body).toMatchObject({ stale: false, entitlementId: 'ent-1000' });
    expect(seen.at(-1)!.check.body.position).toBeGreaterThanOrEqual(head);
  }, 240_000);
});
