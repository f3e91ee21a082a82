/**
 * npm run bench:audit — the audit log's costs, each against a baseline
 * measured in the same run:
 *
 *  1. Tree and export at BENCH_AUDIT_EVENTS (default 1,000,000) synthetic
 *     stored events shaped like the ledger's (~1 KB canonical entries):
 *     - raw SHA-256 of every entry's bytes (one-shot, one core): the baseline;
 *     - the tree built in memory from the events (canonical JSON, leaf hash,
 *       append): events/s;
 *     - the audit store built as the service builds it (AuditLog.append in
 *       batches of 1,000 into a SQLite file): events/s;
 *     - a complete export streamed to a file (auditExportLines, tree heads
 *       every 1,000 events);
 *     - that export verified from the file and the JWKS alone (verifyExport):
 *       events/s, and its ratio to raw hashing of the same entry bytes.
 *  2. Proof generation on that tree: inclusion and consistency proofs for
 *     random leaves and sizes, p50/p99.
 *  3. Over HTTP, on the built embedded process: a customer with
 *     BENCH_AUDIT_CUSTOMER_EVENTS (default 10,000) events (seat assignments and
 *     releases on two entitlements), then as-of reads of the customer's
 *     entitlements and of one entitlement at random past times, an inclusion
 *     proof and a history page: p50/p99 of sequential requests.
 *
 * BENCH_PARTS (default "tree,http") selects the parts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, hash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { AuditLog, auditEntry, AUDIT_SCHEMA, TreeHeads, auditExportLines, byteLines, entryLeafHash, MerkleLog, TREE_HEAD_KEY_USE, verifyExport, verifyInclusion, verifyConsistency, type LoggedEvent } from '@el/audit-service';
import { SqliteEventStore } from '@el/event-store';
import { InProcessIntegrationEvents } from '@el/messaging';
import { Keystore, SystemClock } from '@el/platform';
import { openReadModels } from '@el/read-models';
import { freePort } from '@el/testing';
import { benchDir, fmt, machine, percentile, table } from './bench-util';

const N = Number(process.env['BENCH_AUDIT_EVENTS'] ?? 1_000_000);
const CUSTOMER_EVENTS = Number(process.env['BENCH_AUDIT_CUSTOMER_EVENTS'] ?? 10_000);
const PARTS = (process.env['BENCH_PARTS'] ?? 'tree,http').split(',');
const ROOT = join(__dirname, '..', '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js');

const say = (line: string) => process.stderr.write(`[bench:audit] ${line}\n`);
const rate = (n: number, ms: number) => n / (ms / 1000);
const us = (ms: number) => `${fmt(ms * 1000)} µs`;

/** A stored event shaped like the ledger's: an entitlement grant or change with its envelope. */
function syntheticEvent(position: number): LoggedEvent {
  const customer = `customer-${position % 50_000}`;
  const entitlementId = createHash('sha1').update(`${customer}/${position % 7}`).digest('hex').slice(0, 32);
  const at = new Date(Date.UTC(2026, 0, 1) + position * 1000).toISOString();
  return {
    id: randomUUID(),
    position,
    stream: `entitlement-${entitlementId}`,
    revision: Math.floor(position / 50_000),
    type: position % 3 === 0 ? 'EntitlementGranted' : 'SeatAssigned',
    data: {
      catalogVersion: 1,
      customerId: customer,
      entitlementId,
      features: { api_calls: { meter: { cap: 100000, capType: 'soft', period: 'month' } }, dashboards: {}, projects: { limit: 25 }, 'reports.export': {}, 'reports.scheduled': {} },
      graceDays: 14,
      origin: { kind: 'order', lineId: '10', orderId: `SO-${position}` },
      planId: 'pro',
      planSku: 'ANL-PRO',
      productId: 'analytics',
      seats: 5 + (position % 20),
      term: { count: 12, unit: 'month' },
      userId: `user-${position}@${customer}.example`,
      validFrom: at,
      validUntil: at.replace('2026', '2027'),
    },
    metadata: { actor: { id: 'key:c6eb2820ae1a92d6', type: 'operator' }, causationId: randomUUID(), correlationId: randomUUID(), effectiveAt: at, recordedAt: at, schemaVersion: 1, source: 'api' },
    recordedAt: at,
  };
}

interface Rows {
  tree: (string | number)[][];
  proofs: (string | number)[][];
  http: (string | number)[][];
}

async function treePart(rows: Rows): Promise<void> {
  const { dir, cleanup } = benchDir('audit');
  try {
    say(`generating ${fmt(N)} events`);
    const events: LoggedEvent[] = new Array(N);
    for (let i = 0; i < N; i++) events[i] = syntheticEvent(i + 1);
    const entries: Buffer[] = events.map((e) => Buffer.from(auditEntry(e), 'utf8'));
    const bytes = entries.reduce((s, b) => s + b.length, 0);

    // Baseline: SHA-256 of the same entry bytes, one-shot, one core.
    let t = performance.now();
    for (const b of entries) hash('sha256', b, 'buffer');
    const rawMs = performance.now() - t;
    const raw = rate(N, rawMs);
    say(`raw SHA-256: ${fmt(raw)} entries/s`);

    // The tree in memory from the events: canonical JSON + leaf hash + append.
    t = performance.now();
    const tree = new MerkleLog();
    for (const e of events) tree.append(entryLeafHash(auditEntry(e)));
    const buildMs = performance.now() - t;
    say(`tree in memory: ${fmt(rate(N, buildMs))} events/s`);

    // The audit store as the service builds it.
    const db = await openReadModels({ kind: 'sqlite', path: join(dir, 'audit.db') }, AUDIT_SCHEMA);
    const log = new AuditLog(db);
    const keystore = await Keystore.open(join(dir, 'keys'), { create: true, overlapDays: 3650, now: new Date(), use: TREE_HEAD_KEY_USE, kidPrefix: 'audit-' });
    const store = SqliteEventStore.open({ path: join(dir, 'events.db') });
    const bus = new InProcessIntegrationEvents(store);
    const heads = new TreeHeads(log, keystore, bus, new SystemClock(), 1000);
    t = performance.now();
    for (let i = 0; i < N; i += 1000) {
      await log.append(events.slice(i, i + 1000));
      await heads.afterAppend();
      if (i % 100_000 === 0) say(`  store ${fmt(i)}/${fmt(N)}`);
    }
    const storeMs = performance.now() - t;
    if (!log.tree.root().equals(tree.root())) throw new Error('the stored tree differs from the one built in memory');
    say(`audit store: ${fmt(rate(N, storeMs))} events/s`);

    // A complete export to a file.
    const file = join(dir, 'export.jsonl');
    t = performance.now();
    const out = createWriteStream(file, { highWaterMark: 1 << 20 });
    for await (const line of auditExportLines(log, heads, null, {}, new Date())) if (!out.write(line)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    const exportMs = performance.now() - t;
    const size = statSync(file).size;
    say(`export: ${fmt(rate(N, exportMs))} events/s, ${fmt(size / 1e6)} MB`);

    // Verification from the file and the JWKS alone.
    const jwks = keystore.jwks(new Date());
    t = performance.now();
    const report = await verifyExport(byteLines(createReadStream(file, { highWaterMark: 1 << 20 })), { jwks });
    const verifyMs = performance.now() - t;
    if (!report.ok || report.events !== N) throw new Error(`the export did not verify: ${JSON.stringify(report.failure)}`);
    const verify = rate(N, verifyMs);
    say(`verify: ${fmt(verify)} events/s (${report.treeHeads} tree heads)`);

    rows.tree.push(
      ['raw SHA-256 of the entries (baseline)', fmt(raw), fmt((bytes / 1e6) / (rawMs / 1000)), '1.00×'],
      ['tree in memory (canonical JSON + leaf + append)', fmt(rate(N, buildMs)), '', `${(rate(N, buildMs) / raw).toFixed(2)}×`],
      ['audit store, SQLite (AuditLog.append, 1,000 a batch)', fmt(rate(N, storeMs)), '', `${(rate(N, storeMs) / raw).toFixed(2)}×`],
      [`complete export to a file (${fmt(size / 1e6)} MB)`, fmt(rate(N, exportMs)), fmt((size / 1e6) / (exportMs / 1000)), `${(rate(N, exportMs) / raw).toFixed(2)}×`],
      [`**verify the export** (${report.treeHeads} signed heads)`, `**${fmt(verify)}**`, fmt((size / 1e6) / (verifyMs / 1000)), `**${(verify / raw).toFixed(2)}×**`],
    );

    // Proofs on the 1M tree.
    const samples = 10_000;
    const inclusion: number[] = [];
    const consistency: number[] = [];
    const root = tree.root();
    for (let i = 0; i < samples; i++) {
      const index = Math.floor(Math.random() * N);
      let s = performance.now();
      const proof = tree.inclusionProof(index);
      inclusion.push(performance.now() - s);
      if (i < 100 && !verifyInclusion(tree.leaf(index), index, N, proof, root)) throw new Error('an inclusion proof did not verify');
      const first = 1 + Math.floor(Math.random() * (N - 1));
      s = performance.now();
      const c = tree.consistencyProof(first);
      consistency.push(performance.now() - s);
      if (i < 100 && !verifyConsistency(first, N, tree.root(first), root, c)) throw new Error('a consistency proof did not verify');
    }
    inclusion.sort((a, b) => a - b);
    consistency.sort((a, b) => a - b);
    rows.proofs.push(
      [`inclusion proof, ${fmt(N)} leaves`, us(percentile(inclusion, 50)), us(percentile(inclusion, 99))],
      [`consistency proof, ${fmt(N)} leaves`, us(percentile(consistency, 50)), us(percentile(consistency, 99))],
    );
    await db.destroy();
    await store.close();
  } finally {
    cleanup();
  }
}

async function timed(n: number, f: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

async function httpPart(rows: Rows): Promise<void> {
  const { dir, cleanup } = benchDir('audit-http');
  let child: ChildProcess | null = null;
  try {
    const port = await freePort();
    child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...process.env, DATA_DIR: dir, PORT: String(port), LOG_LEVEL: 'warn', EXPIRY_SWEEP_INTERVAL_MS: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    for (let i = 0; i < 300 && !out.includes(`localhost:${port}`); i++) await new Promise((r) => setTimeout(r, 100));
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${readFileSync(join(dir, 'admin-api-key'), 'utf8').trim()}` };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: body !== undefined ? { ...auth, 'content-type': 'application/json' } : auth, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const json = (await res.json()) as any;
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const placed = await call('POST', '/v1/orders', { orderId: 'SO-BENCH', customerId: 'bench-co', lines: [{ lineId: '10', sku: 'ANL-PRO', quantity: 50, action: 'new' }, { lineId: '20', sku: 'DSG-PRO', quantity: 50, action: 'new' }] });
    const ids = placed.lines.map((l: { entitlementId: string }) => l.entitlementId) as string[];
    say(`writing ${fmt(CUSTOMER_EVENTS)} events for one customer (seat churn on two entitlements)`);
    const times: string[] = [];
    for (let i = 0; i < CUSTOMER_EVENTS; i += 2) {
      const id = ids[(i / 2) % 2]!;
      const user = `u${(i / 2) % 40}@bench-co.example`;
      await call('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: user });
      await call('DELETE', `/v1/entitlements/${id}/seat-assignments/${encodeURIComponent(user)}`);
      if (i % 500 === 0) times.push(new Date().toISOString());
      if (i % 2000 === 0) say(`  ${fmt(i)}/${fmt(CUSTOMER_EVENTS)}`);
    }
    const pick = (i: number) => times[(i * 7919) % times.length]!;
    const n = 200;
    const customerAsOf = await timed(n, async (i) => void (await call('GET', `/v1/customers/bench-co/entitlements?asOf=${encodeURIComponent(pick(i))}`)));
    const bitemporal = await timed(n, async (i) => void (await call('GET', `/v1/customers/bench-co/entitlements?asOf=${encodeURIComponent(pick(i))}&recordedAsOf=${encodeURIComponent(pick(i + 1))}`)));
    const entitlementAsOf = await timed(n, async (i) => void (await call('GET', `/v1/entitlements/${ids[0]}?asOf=${encodeURIComponent(pick(i))}`)));
    const head = (await call('GET', '/v1/audit/tree-heads/latest')) as { treeSize: number; lastPosition: number };
    const proof = await timed(n, async (i) => void (await call('GET', `/v1/audit/proofs/inclusion?position=${1 + ((i * 7919) % head.lastPosition)}`)));
    const history = await timed(n, async (i) => void (await call('GET', `/v1/audit/history?entitlementId=${ids[i % 2]}&limit=100&cursor=${(i * 37) % 5000}`)));
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    rows.http.push(
      [`as-of customer entitlements (${fmt(CUSTOMER_EVENTS)} events)`, ms(percentile(customerAsOf, 50)), ms(percentile(customerAsOf, 99))],
      ['… bitemporal (asOf + recordedAsOf)', ms(percentile(bitemporal, 50)), ms(percentile(bitemporal, 99))],
      [`as-of one entitlement (${fmt(CUSTOMER_EVENTS / 2)} events)`, ms(percentile(entitlementAsOf, 50)), ms(percentile(entitlementAsOf, 99))],
      [`GET /v1/audit/proofs/inclusion (${fmt(head.treeSize)} leaves)`, ms(percentile(proof, 50)), ms(percentile(proof, 99))],
      ['GET /v1/audit/history, a page of 100', ms(percentile(history, 50)), ms(percentile(history, 99))],
    );
  } finally {
    child?.kill('SIGTERM');
    if (child) await once(child, 'exit').catch(() => undefined);
    cleanup();
  }
}

async function main(): Promise<void> {
  const rows: Rows = { tree: [], proofs: [], http: [] };
  if (PARTS.includes('tree')) await treePart(rows);
  if (PARTS.includes('http')) await httpPart(rows);
  const lines = [`bench:audit — ${machine()}, ${new Date().toISOString().slice(0, 10)}`, ''];
  if (rows.tree.length) lines.push(`Tree, export and verification, ${fmt(N)} events (one core):`, '', table(['step', 'events/s', 'MB/s', 'vs raw SHA-256'], rows.tree), '');
  if (rows.proofs.length) lines.push('Proof generation (in memory):', '', table(['proof', 'p50', 'p99'], rows.proofs), '');
  if (rows.http.length) lines.push('Over HTTP, embedded process (sequential requests):', '', table(['request', 'p50', 'p99'], rows.http), '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
