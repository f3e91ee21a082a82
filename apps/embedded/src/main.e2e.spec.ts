import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs the built entry point exactly as `npm start` does (`node
 * dist/apps/embedded/src/main.js`), as a real process with real signals.
 * The test target builds first.
 */
const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function start(env: Record<string, string>): Promise<Running> {
  const port = env['PORT'] ?? String(await freePort());
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', EXPIRY_SWEEP_INTERVAL_MS: '0', ...env, PORT: port }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 20_000;
  while (!out.includes(`http://localhost:${port}`)) {
    if (child.exitCode !== null || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('npm start (embedded entry point)', () => {
  let dataDir: string;
  const running: Running[] = [];
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'el-main-'))));
  afterEach(async () => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on the embedded default, prints its URL, stops on SIGTERM and keeps its data across a restart', async () => {
    const first = await start({ DATA_DIR: dataDir });
    running.push(first);
    expect(first.output()).toContain('Entitlement Ledger (embedded) is up');
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    const order = await post(`${first.url}/v1/orders`, { orderId: 'SO-1', customerId: 'acme', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 3, action: 'new' }] });
    expect(order.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const second = await start({ DATA_DIR: dataDir });
    running.push(second);
    const owned = (await (await fetch(`${second.url}/v1/customers/acme/entitlements?minPosition=${order.body.position}`)).json()) as { items: Record<string, unknown>[] };
    expect(owned.items).toHaveLength(1);
    expect(owned.items[0]).toMatchObject({ entitlementId: order.body.lines[0].entitlementId, seats: 3 });
  });

  it('loses no acknowledged write when killed with SIGKILL mid-load', async () => {
    const app = await start({ DATA_DIR: dataDir });
    running.push(app);
    const acked: string[] = [];
    let ackedPosition = 0;
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await post(`${app.url}/v1/orders`, { orderId: `SO-${w}-${i}`, customerId: `c-${w}`, lines: [{ lineId: '1', sku: 'VLT-PRO', quantity: 1, action: 'new' }] });
          if (r.status === 201) {
            acked.push(`SO-${w}-${i}`);
            ackedPosition = Math.max(ackedPosition, r.body.position);
          }
        } catch {
          return; // the server is gone
        }
      }
    });
    while (acked.length < 40) await new Promise((r) => setTimeout(r, 5));
    app.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    expect((await app.exited).signal).toBe('SIGKILL');

    const again = await start({ DATA_DIR: dataDir });
    running.push(again);
    for (const orderId of acked) {
      const res = await fetch(`${again.url}/v1/orders/${orderId}?minPosition=${ackedPosition}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('fulfilled');
    }
  });

  it('refuses to start with a bad variable and names it', async () => {
    const bad = await start({ DATA_DIR: dataDir, PORT: 'eighty', SQLITE_SYNCHRONOUS: 'MAYBE' });
    running.push(bad);
    expect((await bad.exited).code).toBe(1);
    expect(bad.output()).toContain('PORT: must be an integer from 1 to 65535 (got "eighty")');
    expect(bad.output()).toContain('SQLITE_SYNCHRONOUS: must be one of FULL, NORMAL (got "MAYBE")');
  });

  it('says which variable to change when the port is taken', async () => {
    const first = await start({ DATA_DIR: dataDir });
    running.push(first);
    const port = new URL(first.url).port;
    const second = await start({ DATA_DIR: mkdtempSync(join(tmpdir(), 'el-main-')), PORT: port });
    running.push(second);
    expect((await second.exited).code).toBe(1);
    expect(second.output()).toContain(`PORT: port ${port} is already in use`);
  });
});
