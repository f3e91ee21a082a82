/**
 * npm run bench:check —
 *  1. SDK: in-process checks (EntitlementClient.checkLocal on a verified
 *     token) on one core: checks/s and the latency of single checks;
 *  2. HTTP: POST /v1/check against the service (the embedded process, on a
 *     view seeded through the ledger API) and against a bare Fastify route
 *     that returns a constant, each in its own process, in the same run:
 *     maximum req/s with autocannon, then p50/p99 of an open-loop load at
 *     half of that rate.
 *
 * BENCH_SDK_CHECKS (default 3,000,000), BENCH_HTTP_SECONDS (default 10),
 * BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3: alternating
 * maximum-rate runs per server, medians reported).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { LICENSE_TOKEN_AUDIENCE, LICENSE_TOKEN_ISSUER, type LicenseEntitlementV1 } from '@el/contracts';
import { EntitlementClient } from '@el/sdk';
import { freePort } from '@el/testing';
import { benchDir, fmt, machine, percentile, table } from './bench-util';
import { maxLoad, openLoop, type LoadTarget } from './http-load';

const SDK_CHECKS = Number(process.env['BENCH_SDK_CHECKS'] ?? 3_000_000);
const HTTP_SECONDS = Number(process.env['BENCH_HTTP_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const ROOT = join(__dirname, '..', '..', '..', '..');

function entitlement(i: number, features: LicenseEntitlementV1['features']): LicenseEntitlementV1 {
  return {
    id: `e${i}`,
    product: i === 0 ? 'analytics' : `product-${i}`,
    plan: 'pro',
    sku: 'ANL-PRO',
    tier: 1,
    status: 'active',
    reason: null,
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil: '2099-01-01T00:00:00.000Z',
    graceEndsAt: '2099-01-15T00:00:00.000Z',
    regions: ['EU', 'US'],
    seats: 25,
    features,
    seated: true,
  };
}

async function sdk(): Promise<string[][]> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const now = Math.floor(Date.now() / 1000);
  // A customer with three entitlements, the token bound to one user.
  const ents = [
    entitlement(0, { dashboards: {}, projects: { limit: 25 }, 'reports.export': {}, api_calls: { meter: { period: 'month', cap: 100_000, capType: 'soft' } } }),
    entitlement(1, { editor: {}, 'export.pdf': {} }),
    entitlement(2, { vault: {}, secrets: { limit: 500 } }),
  ];
  const token = await new SignJWT({ pos: 1000, usr: 'bob', ents: ents as never })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: 'license+jwt' })
    .setIssuer(LICENSE_TOKEN_ISSUER)
    .setAudience(LICENSE_TOKEN_AUDIENCE)
    .setSubject('acme')
    .setJti('bench')
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  const client = await EntitlementClient.start({ token, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA' }] } });
  const requests = [
    { feature: 'dashboards', options: { userId: 'bob' } },
    { feature: 'projects', options: { quantity: 3 } },
    { feature: 'sso', options: {} },
    { feature: 'editor', options: { region: 'EU' } },
    { feature: 'api_calls', options: { quantity: 10 } },
    { feature: 'secrets', options: { userId: 'bob', quantity: 2 } },
    { feature: 'dashboards', options: { region: 'APAC' } },
    { feature: 'vault', options: {} },
  ] as const;
  let allowed = 0;
  // Warm up the JIT, then a throughput run and a latency run.
  for (let i = 0; i < 200_000; i++) if (client.checkLocal(requests[i & 7]!.feature, requests[i & 7]!.options)?.allowed) allowed++;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < SDK_CHECKS; i++) if (client.checkLocal(requests[i & 7]!.feature, requests[i & 7]!.options)?.allowed) allowed++;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const samples = new Float64Array(Math.min(SDK_CHECKS, 1_000_000));
  for (let i = 0; i < samples.length; i++) {
    const r = requests[i & 7]!;
    const s = process.hrtime.bigint();
    if (client.checkLocal(r.feature, r.options)?.allowed) allowed++;
    samples[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  client.close();
  const sorted = Array.from(samples).sort((a, b) => a - b);
  if (allowed === 0) throw new Error('no check was allowed: the benchmark is not measuring decisions');
  return [['SDK checkLocal (1 core)', fmt(SDK_CHECKS), fmt(SDK_CHECKS / seconds), fmt(percentile(sorted, 50), 2), fmt(percentile(sorted, 99), 2), fmt(percentile(sorted, 99.9), 2)]];
}

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
}

/**
 * With two or more cores and taskset, each server gets a core of its own and
 * the load generator (this process) another: the servers do not compete with
 * autocannon for CPU, so the ratio compares the servers, not the scheduler.
 */
const PINNED = cpus().length >= 2 && spawnSync('taskset', ['--version']).status === 0;
if (PINNED) spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)]);

async function spawnServer(args: string[], env: Record<string, string>, ready: RegExp): Promise<Server> {
  const port = await freePort();
  const [command, argv] = PINNED ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stop(server: Server): Promise<void> {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
}

/** The service's API key (the first start's admin key), sent with every request, checks included. */
let auth: Record<string, string> = {};

async function json(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

const CHECK_BODY = JSON.stringify({ customerId: 'cust-7', feature: 'reports.export', userId: 'user-7-1' });

const target = (url: string): LoadTarget => ({ url, path: '/v1/check', body: CHECK_BODY, headers: auth });
const load = (url: string, seconds = HTTP_SECONDS) => maxLoad(target(url), CONNECTIONS, seconds);

/** CPU time (user + system) the process has used, in microseconds (Linux /proc). */
function cpuMicros(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
  } catch {
    return null;
  }
}
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

interface MaxRun {
  readonly rps: number;
  readonly p99: number;
  /** Server CPU per request, µs: steadier than req/s on a noisy machine. */
  readonly cpuPerRequest: number | null;
}

async function maxRun(server: Server): Promise<MaxRun> {
  const before = cpuMicros(server.child.pid!);
  const r = await load(server.url);
  const after = cpuMicros(server.child.pid!);
  return { rps: r.requests.average, p99: r.latency.p99, cpuPerRequest: before !== null && after !== null ? (after - before) / r.requests.total : null };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function http(): Promise<{ rows: string[][]; ratio: number; cpuRatio: number | null }> {
  const { dir, cleanup } = benchDir('check');
  const service = await spawnServer([join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js')], { DATA_DIR: dir, LOG_LEVEL: 'warn', EXPIRY_SWEEP_INTERVAL_MS: '0', RATE_LIMIT_WRITES_PER_SECOND: '0' }, /is up/);
  auth = { authorization: `Bearer ${readFileSync(join(dir, 'admin-api-key'), 'utf8').trim()}` };
  let bare: Server | null = null;
  try {
    // 200 customers, each with an entitlement and two seat holders: the view the checks read.
    let position = 0;
    for (let c = 0; c < 200; c++) {
      const g = await json(`${service.url}/v1/entitlements`, { customerId: `cust-${c}`, sku: 'ANL-PRO', quantity: 5 });
      for (const u of [1, 2]) position = (await json(`${service.url}/v1/entitlements/${g.entitlementId}/seat-assignments`, { userId: `user-${c}-${u}` })).position;
    }
    const probe = await json(`${service.url}/v1/check`, { ...JSON.parse(CHECK_BODY), minPosition: position });
    if (probe.code !== 'OK' || probe.stale) throw new Error(`the seeded check does not decide OK: ${JSON.stringify(probe)}`);
    // The baseline answers with the same bytes: the comparison is the service's work, not payload size.
    bare = await spawnServer([join(ROOT, 'dist', 'tools', 'bench', 'src', 'bare-fastify.js')], { BARE_BODY: JSON.stringify(probe) }, /listening/);
    const servers = [
      { name: 'bare Fastify', server: bare, runs: [] as MaxRun[] },
      { name: 'service /v1/check', server: service, runs: [] as MaxRun[] },
    ];
    for (const s of servers) await load(s.server.url, 3); // warm up
    // Alternate rounds so neither side always runs on a quieter machine; medians count.
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of servers) {
        const run = await maxRun(s.server);
        s.runs.push(run);
        process.stderr.write(`round ${round}: ${s.name} ${fmt(run.rps)} req/s, ${run.cpuPerRequest === null ? '?' : fmt(run.cpuPerRequest, 1)} µs CPU/request\n`);
      }
    }
    const rows: string[][] = [];
    const summary: { rps: number; cpu: number | null }[] = [];
    for (const s of servers) {
      const rps = median(s.runs.map((r) => r.rps));
      const cpu = s.runs.every((r) => r.cpuPerRequest !== null) ? median(s.runs.map((r) => r.cpuPerRequest!)) : null;
      const half = await openLoop(target(s.server.url), Math.round(rps / 2), HTTP_SECONDS);
      process.stderr.write(`${s.name}: at ${fmt(half.rate)}/s p50 ${fmt(half.p50, 2)} ms p99 ${fmt(half.p99, 2)} ms\n`);
      summary.push({ rps, cpu });
      rows.push([s.name, fmt(rps), s.runs.map((r) => fmt(r.rps)).join(' / '), cpu === null ? '?' : fmt(cpu, 1), fmt(median(s.runs.map((r) => r.p99))), fmt(half.rate), fmt(half.p50, 2), fmt(half.p99, 2), fmt(half.p999, 2)]);
    }
    const [b, svc] = summary as [{ rps: number; cpu: number | null }, { rps: number; cpu: number | null }];
    return { rows, ratio: svc.rps / b.rps, cpuRatio: b.cpu !== null && svc.cpu !== null ? b.cpu / svc.cpu : null };
  } finally {
    await stop(service);
    if (bare) await stop(bare);
    cleanup();
  }
}

async function main() {
  console.log(`# bench:check — ${machine()}\n`);
  console.log(table(['path', 'checks', 'checks/s', 'p50 µs', 'p99 µs', 'p99.9 µs'], await sdk()));
  console.log(
    `\nHTTP POST /v1/check, autocannon ${CONNECTIONS} connections, ${HTTP_SECONDS} s per run, client and server on the same machine${PINNED ? ' (each server pinned to CPU 1, autocannon to CPU 0)' : ''}:\n`,
  );
  const { rows, ratio, cpuRatio } = await http();
  console.log(table(['server', 'max req/s (median)', `runs (${ROUNDS})`, 'CPU µs/request', 'p99 ms at max', 'half rate req/s', 'p50 ms at half', 'p99 ms at half', 'p99.9 ms at half'], rows));
  console.log(`\nservice / bare Fastify = ${fmt(ratio * 100, 1)} % of the req/s${cpuRatio === null ? '' : ` (${fmt(cpuRatio * 100, 1)} % by CPU per request)`}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
