#!/usr/bin/env node
// The README's first command as a newcomer runs it, on whatever Node runs this script:
// `npm start` on a fresh data directory answers /health with 200, fulfils an order and
// allows a check on it, then stops cleanly on SIGTERM (exit 0). CI runs it on the
// machine's own Node; the test suite runs on Node 24.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.SMOKE_PORT ?? 18_080);
const base = `http://127.0.0.1:${port}`;
if (await fetch(`${base}/health`).then(() => true, () => false)) {
  process.stderr.write(`smoke test: something already answers on port ${port}; choose another with SMOKE_PORT\n`);
  process.exit(1);
}
const dataDir = mkdtempSync(join(tmpdir(), 'el-smoke-'));
let output = '';
const npm = spawn('npm', ['start'], { env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
npm.stdout.on('data', (d) => (output += d));
npm.stderr.on('data', (d) => (output += d));
const exited = new Promise((resolve) => npm.on('exit', (code, signal) => resolve({ code, signal })));

function fail(message) {
  process.stderr.write(`smoke test failed on Node ${process.version}: ${message}\n--- npm start output ---\n${output}\n`);
  npm.kill('SIGKILL');
  for (const pid of descendants(npm.pid)) kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
}

/** Process ids below `root` (Linux /proc): npm runs a shell that runs the build, then node. */
function descendants(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone */
    }
  }
  const out = [];
  const walk = (pid) => (children.get(pid) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(root);
  return out;
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

let auth = {};
async function json(path, body) {
  const res = await fetch(`${base}${path}`, body === undefined ? { headers: auth } : { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const deadline = Date.now() + 120_000;
for (;;) {
  if (npm.exitCode !== null) fail(`npm start exited with ${npm.exitCode} before answering`);
  if (Date.now() > deadline) fail('no answer on /health within 120 s');
  const health = await json('/health').catch(() => null);
  if (health?.status === 200) break;
  await new Promise((r) => setTimeout(r, 250));
}
// npm start built the web console and serves it.
const page = await fetch(`${base}/console/`).then(async (r) => ({ status: r.status, text: await r.text() }));
if (page.status !== 200 || !page.text.includes('<div id="root">')) fail(`/console/ answered ${page.status}: ${page.text.slice(0, 200)}`);
const script = page.text.match(/src="(\/console\/assets\/[^"]+\.js)"/)?.[1];
if (!script || (await fetch(`${base}${script}`)).status !== 200) fail(`the console's script ${script ?? '(none in the page)'} is not served`);
// The README's way in: the first start wrote an admin key that only its owner can read.
const keyFile = join(dataDir, 'admin-api-key');
if (!existsSync(keyFile)) fail(`the first start wrote no admin key to ${keyFile}`);
const mode = statSync(keyFile).mode & 0o777;
if (mode !== 0o600) fail(`${keyFile} has mode ${mode.toString(8)}, not 600`);
if (output.includes(readFileSync(keyFile, 'utf8').trim())) fail('the admin key was printed to the output');
const anonymous = await json('/v1/orders', { orderId: 'SO-ANON', customerId: 'smoke', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 2, action: 'new' }] });
if (anonymous.status !== 401) fail(`an order without a credential answered ${anonymous.status}, not 401`);
auth = { authorization: `Bearer ${readFileSync(keyFile, 'utf8').trim()}` };
const order = await json('/v1/orders', { orderId: 'SO-SMOKE', customerId: 'smoke', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 2, action: 'new' }] });
if (order.status !== 201 || order.body.status !== 'fulfilled') fail(`the order answered ${order.status} ${JSON.stringify(order.body)}`);
const check = await json('/v1/check', { customerId: 'smoke', feature: 'reports.export', minPosition: order.body.position });
if (!check.body.allowed || check.body.stale) fail(`the check answered ${JSON.stringify(check.body)}`);

// Stop it the way a supervisor does: SIGTERM to `npm start`, which hands it to the server (the script execs node).
const server = descendants(npm.pid).find((pid) => {
  try {
    // node dist/apps/embedded/src/main.js (not a shell whose -c string names it)
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === 'dist/apps/embedded/src/main.js';
  } catch {
    return false;
  }
});
if (!server) fail('cannot find the server process under npm start');
kill(npm.pid, 'SIGTERM');
const { code, signal } = await exited;
const stopped = await new Promise((resolve) => {
  const until = Date.now() + 15_000;
  const poll = () => {
    try {
      process.kill(server, 0);
    } catch {
      return resolve(true);
    }
    if (Date.now() > until) return resolve(false);
    setTimeout(poll, 100);
  };
  poll();
});
if (!stopped) fail(`the server (pid ${server}) outlived npm start's SIGTERM`);
if (code !== 0) fail(`npm start ended with code ${code} (signal ${signal}) after SIGTERM`);
if (!output.includes('received SIGTERM, shutting down')) fail('the server did not shut down on SIGTERM');
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`smoke test passed on Node ${process.version}: npm start answered /health, served the web console, fulfilled an order (position ${order.body.position}), allowed a check, stopped cleanly with exit code 0 on SIGTERM\n`);
