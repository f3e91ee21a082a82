/**
 * npm run bench:check —
 *  1. SDK: in-process checks (EntitlementClient.checkLocal on a verified
 *     token) on one core: checks/s and the latency of single checks; beside
 *     it, in the same run and on the same entitlements and requests, casbin
 *     (an ABAC model) and OPA's WebAssembly build of the same rule in Rego
 *     (tools/bench/policy/), with the ratios;
 *  2. HTTP: POST /v1/check against the service (the embedded process, on a
 *     view seeded through the ledger API), against `opa run --server` holding
 *     the same rule and the same entitlements, and against a bare Fastify
 *     route that returns a constant, each in its own process, in the same run:
 *     maximum req/s with autocannon, then p50/p99 of an open-loop load at the
 *     same offered rate for all (half the lowest maximum).
 * Before timing, every peer's answer to every request is compared with ours.
 * OPA is built once from the Go module proxy (tools/bench/src/opa.ts); without
 * Go its rows are skipped, saying so.
 *
 * BENCH_SDK_SECONDS (default 3 per engine), BENCH_HTTP_SECONDS (default 10),
 * BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3: alternating
 * maximum-rate runs per server, medians reported).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { LICENSE_TOKEN_AUDIENCE, LICENSE_TOKEN_ISSUER, type EntitlementV1, type LicenseEntitlementV1 } from '@el/contracts';
import { checkSubject, type CheckSubject, type Decision } from '@el/domain';
import { EntitlementClient } from '@el/sdk';
import { freePort } from '@el/testing';
import { benchDir, fmt, machine, percentile, ratio, table } from './bench-util';
import { CASBIN_VERSION, casbinAllows, casbinEnforcer, disagreement, OPA_WASM_VERSION, policyData, type PeerDecision, type PeerRequest } from './check-peers';
import { maxLoad, openLoop, type Latency, type LoadTarget } from './http-load';
import { buildWasm, ENTRYPOINT, ensureOpa, OPA_VERSION, POLICY } from './opa';

const SDK_SECONDS = Number(process.env['BENCH_SDK_SECONDS'] ?? 3);
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

/** One way of deciding the benchmark's requests; `decide(i)` answers request i & 7 and says whether it was allowed. */
interface Engine {
  readonly name: string;
  decide(i: number): boolean;
}

interface EngineRun {
  readonly name: string;
  readonly checks: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/** Warm-up, then checks for SDK_SECONDS (throughput), then up to a million timed single checks (latency, µs). */
function measure(engine: Engine): EngineRun {
  let allowed = 0;
  const warmUntil = performance.now() + 500;
  for (let i = 0; performance.now() < warmUntil; i++) if (engine.decide(i)) allowed++;
  let checks = 0;
  const t0 = process.hrtime.bigint();
  const until = performance.now() + SDK_SECONDS * 1000;
  while (performance.now() < until) {
    for (let k = 0; k < 1000; k++, checks++) if (engine.decide(checks)) allowed++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const samples = new Float64Array(Math.min(1_000_000, checks));
  const sampleUntil = performance.now() + SDK_SECONDS * 1000;
  let n = 0;
  for (; n < samples.length && performance.now() < sampleUntil; n++) {
    const s = process.hrtime.bigint();
    if (engine.decide(n)) allowed++;
    samples[n] = Number(process.hrtime.bigint() - s) / 1000;
  }
  if (allowed === 0) throw new Error(`${engine.name}: no check was allowed: the benchmark is not measuring decisions`);
  const sorted = Array.from(samples.subarray(0, n)).sort((a, b) => a - b);
  return { name: engine.name, checks, perSecond: checks / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9) };
}

async function sdk(wasm: Buffer | null): Promise<string[][]> {
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
  const requests: readonly PeerRequest[] = [
    { customerId: 'acme', feature: 'dashboards', userId: 'bob' },
    { customerId: 'acme', feature: 'projects', quantity: 3 },
    { customerId: 'acme', feature: 'sso' },
    { customerId: 'acme', feature: 'editor', region: 'EU' },
    { customerId: 'acme', feature: 'api_calls', quantity: 10 },
    { customerId: 'acme', feature: 'secrets', userId: 'bob', quantity: 2 },
    { customerId: 'acme', feature: 'dashboards', region: 'APAC' },
    { customerId: 'acme', feature: 'vault' },
  ];
  const options = requests.map(({ customerId: _, feature: __, ...o }) => o);
  const ours = (i: number): Decision => client.checkLocal(requests[i & 7]!.feature, options[i & 7])!;
  // The peers get the same entitlements: the subjects the SDK decided on, taken from the verified token.
  const subjects = client.license!.subjects;
  const enforcer = await casbinEnforcer(subjects);
  const engines: Engine[] = [
    { name: 'SDK `checkLocal` (ours)', decide: (i) => ours(i).allowed },
    { name: `casbin ${CASBIN_VERSION} (ABAC model, \`enforceSync\`)`, decide: (i) => casbinAllows(enforcer, requests[i & 7]!, Date.now()) },
  ];
  // Before timing: every peer decides every request as we do.
  const problems: string[] = [];
  requests.forEach((r, i) => {
    const d = ours(i);
    for (const p of disagreement(d, casbinAllows(enforcer, r, Date.now()))) problems.push(`casbin, request ${JSON.stringify(r)}: ${p}`);
  });
  if (wasm) {
    // The JavaScript SDK implements no clock: time.now_ns is given to it, as its README says to for missing builtins.
    const policy = await loadPolicy(wasm, undefined, { 'time.now_ns': () => Date.now() * 1e6 });
    policy.setData(policyData(subjects));
    const inputs = requests.map((r) => ({ ...r }));
    const opa = (i: number): PeerDecision => (policy.evaluate(inputs[i & 7], ENTRYPOINT) as { result: PeerDecision }[])[0]!.result;
    requests.forEach((r, i) => {
      for (const p of disagreement(ours(i), opa(i))) problems.push(`OPA wasm, request ${JSON.stringify(r)}: ${p}`);
    });
    engines.push({ name: `OPA ${OPA_VERSION} WebAssembly (\`opa build -t wasm\`, opa-wasm ${OPA_WASM_VERSION})`, decide: (i) => opa(i).allowed });
  }
  if (problems.length > 0) throw new Error(`the peers do not decide as we do:\n${problems.join('\n')}`);
  const runs = engines.map((e) => {
    const r = measure(e);
    process.stderr.write(`${r.name}: ${fmt(r.perSecond)} checks/s\n`);
    return r;
  });
  client.close();
  const base = runs[0]!;
  const rows = runs.map((r, i) => [r.name, fmt(r.checks), fmt(r.perSecond), fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.p999, 2), i === 0 ? '1.00×' : ratio(base.perSecond, r.perSecond)]);
  return rows;
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

/** Starts a server on a free port (pinned to CPU 1 when possible); ready once `ready` matches its output or answers. */
async function spawnServer(command: string, args: string[], env: Record<string, string>, ready: RegExp | ((url: string) => Promise<boolean>), port?: number): Promise<Server> {
  port ??= await freePort();
  const [cmd, argv] = PINNED ? ['taskset', ['-c', '1', command, ...args]] : [command, args];
  const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)));
    if (ready instanceof RegExp) {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (ready.test(out)) resolve();
      });
      return;
    }
    child.stdout!.resume();
    const poll = async () => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        if (await ready(url).catch(() => false)) return resolve();
      }
      reject(new Error(`${command} did not answer at ${url} within 60 s`));
    };
    void poll();
  });
  return { url, child };
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

const CHECK = { customerId: 'cust-7', feature: 'reports.export', userId: 'user-7-1' };
const CHECK_BODY = JSON.stringify(CHECK);
const OPA_PATH = `/v1/data/${ENTRYPOINT}`;

interface Contender {
  readonly name: string;
  readonly server: Server;
  readonly target: LoadTarget;
  readonly runs: MaxRun[];
}

const load = (target: LoadTarget, seconds = HTTP_SECONDS) => maxLoad(target, CONNECTIONS, seconds);

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

async function maxRun(c: Contender): Promise<MaxRun> {
  const before = cpuMicros(c.server.child.pid!);
  const r = await load(c.target);
  const after = cpuMicros(c.server.child.pid!);
  return { rps: r.requests.average, p99: r.latency.p99, cpuPerRequest: before !== null && after !== null ? (after - before) / r.requests.total : null };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** What the ledger answers of an entitlement (the fields a check subject is built from). */
type EntitlementView = Pick<EntitlementV1, 'entitlementId' | 'customerId' | 'productId' | 'planId' | 'tier' | 'status' | 'statusReason' | 'validFrom' | 'validUntil' | 'graceEndsAt' | 'regions' | 'features' | 'seats' | 'assignedUsers' | 'devices'>;

interface HttpResult {
  readonly rows: string[][];
  readonly rate: number;
  readonly summary: Record<string, { rps: number; cpu: number | null; p50: number; p99: number }>;
}

async function http(opa: string | null): Promise<HttpResult> {
  const { dir, cleanup } = benchDir('check');
  // BENCH_APP_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the service under load.
  const nodeArgs = (process.env['BENCH_APP_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const service = await spawnServer(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js')], { DATA_DIR: dir, LOG_LEVEL: 'warn', EXPIRY_SWEEP_INTERVAL_MS: '0', RATE_LIMIT_WRITES_PER_SECOND: '0' }, /is up/);
  auth = { authorization: `Bearer ${readFileSync(join(dir, 'admin-api-key'), 'utf8').trim()}` };
  const servers: Server[] = [service];
  try {
    // 200 customers, each with an entitlement and two seat holders: the view the checks read.
    let position = 0;
    const subjects: CheckSubject[] = [];
    for (let c = 0; c < 200; c++) {
      const g = await json(`${service.url}/v1/entitlements`, { customerId: `cust-${c}`, sku: 'ANL-PRO', quantity: 5 });
      let view: EntitlementView | null = null;
      for (const u of [1, 2]) {
        const r = await json(`${service.url}/v1/entitlements/${g.entitlementId}/seat-assignments`, { userId: `user-${c}-${u}` });
        position = r.position;
        view = r.entitlement;
      }
      subjects.push(checkSubject({ ...view!, statusReason: view!.statusReason ?? null, seatHolders: view!.assignedUsers, devices: view!.devices.map((d) => d.deviceId) }));
    }
    const probe = await json(`${service.url}/v1/check`, { ...CHECK, minPosition: position });
    if (probe.code !== 'OK' || probe.stale) throw new Error(`the seeded check does not decide OK: ${JSON.stringify(probe)}`);
    // The baseline answers with the same bytes: the comparison is the service's work, not payload size.
    const bare = await spawnServer(process.execPath, [join(ROOT, 'dist', 'tools', 'bench', 'src', 'bare-fastify.js')], { BARE_BODY: JSON.stringify(probe) }, /listening/);
    servers.push(bare);
    const contenders: Contender[] = [
      { name: 'bare Fastify route returning a constant', server: bare, target: { url: bare.url, path: '/v1/check', body: CHECK_BODY, headers: auth }, runs: [] },
      { name: 'the service `POST /v1/check` (ours)', server: service, target: { url: service.url, path: '/v1/check', body: CHECK_BODY, headers: auth }, runs: [] },
    ];
    if (opa) {
      // The same entitlements (as the service decided them: its answers to the seat assignments) and the same rule, in Rego.
      const dataFile = join(dir, 'opa-data.json');
      writeFileSync(dataFile, JSON.stringify(policyData(subjects)));
      const port = await freePort();
      const server = await spawnServer(opa, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '--skip-version-check', POLICY, dataFile], {}, async (url) => (await fetch(`${url}/health`)).status === 200, port);
      servers.push(server);
      const target: LoadTarget = { url: server.url, path: OPA_PATH, body: JSON.stringify({ input: CHECK }), headers: auth };
      const answer = (await (await fetch(`${server.url}${OPA_PATH}`, { method: 'POST', body: target.body, headers: { 'content-type': 'application/json' } })).json()) as { result: PeerDecision };
      const differs = disagreement(probe as Decision, answer.result);
      if (differs.length > 0) throw new Error(`opa run --server does not decide as the service does: ${differs.join('; ')}`);
      contenders.push({ name: `\`opa run --server\` ${OPA_VERSION}, same rule and entitlements`, server, target, runs: [] });
    }
    for (const c of contenders) await load(c.target, 3); // warm up
    // Alternate rounds so neither side always runs on a quieter machine; medians count.
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of contenders) {
        const run = await maxRun(c);
        c.runs.push(run);
        process.stderr.write(`round ${round}: ${c.name} ${fmt(run.rps)} req/s, ${run.cpuPerRequest === null ? '?' : fmt(run.cpuPerRequest, 1)} µs CPU/request\n`);
      }
    }
    const maxima = contenders.map((c) => median(c.runs.map((r) => r.rps)));
    // One offered load for every server: half the lowest maximum, so each can keep up.
    const rate = Math.round(Math.min(...maxima) / 2);
    // The fixed load in alternating rounds too (latency on this shared machine drifts with its load); medians count.
    const opens = contenders.map(() => [] as Latency[]);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, c] of (round % 2 === 1 ? [...contenders.entries()] : [...contenders.entries()].reverse())) {
        const open = await openLoop(c.target, rate, HTTP_SECONDS);
        opens[i]!.push(open);
        process.stderr.write(`round ${round}: ${c.name} at ${fmt(open.rate)}/s p50 ${fmt(open.p50, 2)} ms p99 ${fmt(open.p99, 2)} ms\n`);
      }
    }
    const rows: string[][] = [];
    const summary: HttpResult['summary'] = {};
    for (const [i, c] of contenders.entries()) {
      const rps = maxima[i]!;
      const cpu = c.runs.every((r) => r.cpuPerRequest !== null) ? median(c.runs.map((r) => r.cpuPerRequest!)) : null;
      const runs = opens[i]!;
      const open = { p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), p999: median(runs.map((r) => r.p999)) };
      summary[c.server === service ? 'ours' : c.server === bare ? 'bare' : 'opa'] = { rps, cpu, p50: open.p50, p99: open.p99 };
      rows.push([c.name, fmt(rps), c.runs.map((r) => fmt(r.rps)).join(' / '), cpu === null ? '?' : fmt(cpu, 1), fmt(median(c.runs.map((r) => r.p99))), fmt(open.p50, 2), fmt(open.p99, 2), fmt(open.p999, 2), runs.map((r) => fmt(r.p99, 1)).join(' / ')]);
    }
    return { rows, rate, summary };
  } finally {
    for (const s of servers) await stop(s);
    cleanup();
  }
}

async function main() {
  console.log(`# bench:check — ${machine()}, ${new Date().toISOString().slice(0, 10)}\n`);
  const built = ensureOpa((line) => process.stderr.write(`${line}\n`));
  const opa = 'opa' in built ? built.opa : null;
  if (!opa) console.log(`${(built as { skipped: string }).skipped}\n`);
  const wasm = opa ? buildWasm(opa, join(benchDir('opa-wasm').dir)) : null;
  const rows = await sdk(wasm);
  console.log(`In process, one core, the same entitlements (a customer with three) and the same eight requests, ${SDK_SECONDS} s per engine; answers compared with ours first:\n`);
  console.log(table(['engine', 'checks', 'checks/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'ours ÷ this'], rows));
  console.log(
    `\nHTTP, autocannon ${CONNECTIONS} connections, ${HTTP_SECONDS} s per run, client and server on the same machine${PINNED ? ' (each server pinned to CPU 1, the load generator to CPU 0)' : ''}; 200 customers:\n`,
  );
  const { rows: httpRows, rate, summary } = await http(opa);
  console.log(table(['server', 'max req/s (median)', `runs (${ROUNDS})`, 'CPU µs/request', 'p99 ms at max', `p50 ms at ${fmt(rate)}/s (median)`, `p99 ms at ${fmt(rate)}/s`, `p99.9 ms at ${fmt(rate)}/s`, `p99 runs (${ROUNDS})`], httpRows));
  const { ours, bare, opa: peer } = summary as Record<'ours' | 'bare', HttpResult['summary'][string]> & { opa?: HttpResult['summary'][string] };
  console.log(`\nours ÷ bare Fastify = ${fmt((ours.rps / bare.rps) * 100, 1)} % of the req/s${ours.cpu !== null && bare.cpu !== null ? ` (${fmt((bare.cpu / ours.cpu) * 100, 1)} % by CPU per request)` : ''}`);
  if (peer) {
    const throughput = ours.rps / peer.rps;
    console.log(`ours ÷ OPA server = ${ratio(ours.rps, peer.rps)} the max req/s (aim ≥ 1.5×: ${throughput >= 1.5 ? 'met' : 'not met'}); p99 at ${fmt(rate)}/s ${fmt(ours.p99, 2)} ms vs ${fmt(peer.p99, 2)} ms (aim: no worse: ${ours.p99 <= peer.p99 ? 'met' : 'not met'})`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
