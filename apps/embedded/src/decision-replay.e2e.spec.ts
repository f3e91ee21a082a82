import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { catalogInForceAt, replayDecision } from '@el/audit-service';
import { TOPICS, type CheckBatchResponseV1, type CheckResponseV1, type DecisionRecordV1 } from '@el/contracts';
import { CATALOG_STREAM, type Catalog, type CommandMetadata, type Decision, type EntitlementCommand } from '@el/domain';
import { DecisionLog } from '@el/enforcement-service';
import { startEnforcementApp } from '@el/enforcement-service/testing';
import { InMemoryCheckpointStore, SqliteEventStore, type EventStore, type RecordedEvent } from '@el/event-store';
import { LedgerLog, sampleCatalog } from '@el/event-store/testing';
import { EntitlementRelay, INTEGRATION_EVENTS, jsonOf, KafkaIntegrationEvents, type IntegrationEvents } from '@el/messaging';
import { describeWithKafka, kafkaForTests, until } from '@el/testing';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

const REPO = join(__dirname, '..', '..', '..');

/**
 * Issue 12, replayable decisions: every decision the enforcement service
 * answers carries the ledger position and catalog version it was decided at,
 * and its record on enforcement.decisions.v1 recomputes, from the ledger's
 * history up to that position, to exactly the decision answered. Checks run
 * while the ledger is being written (grants, upgrades and downgrades,
 * suspensions, revocations, add-ons, seats, devices), usage is reported, and
 * the catalog changes between two runs of the process.
 */

type Check = { customerId: string; feature: string; quantity?: number; userId?: string; deviceId?: string; region?: string; productId?: string; at?: string };
type Answer = Decision & { position: number; catalogVersion: number | null };

const CUSTOMERS = ['c-free', 'c-pro', 'c-designer', 'c-vault', 'c-two-products', 'c-twins', 'c-late', 'c-designer-2'] as const;
const INITIAL: Record<(typeof CUSTOMERS)[number], string[]> = {
  'c-free': ['ANL-FREE'],
  'c-pro': ['ANL-PRO'],
  'c-designer': ['DSG-PRO'],
  'c-vault': ['VLT-FREE'],
  'c-two-products': ['ANL-FREE', 'DSG-FREE'],
  'c-twins': ['ANL-PRO', 'ANL-PRO'],
  'c-late': [],
  'c-designer-2': ['DSG-PRO'],
};
const ANALYTICS = ['ANL-FREE', 'ANL-PRO', 'ANL-ENT'];
const DESIGNER = ['DSG-FREE', 'DSG-PRO', 'DSG-ENT'];
const USERS = ['u-0', 'u-1', 'u-2'];

class Run {
  /** Entitlements in force per customer, as this test granted and changed them. */
  readonly owned = new Map<string, { id: string; sku: string }[]>();
  readonly answers: Answer[] = [];
  readonly writes = { ok: 0, refused: 0 };
  private usageSeq = 0;
  private steps = 0;
  private batches = 0;

  constructor(
    private t: EmbeddedApp,
    private readonly records: DecisionRecordV1[],
  ) {}

  async restarted(t: EmbeddedApp): Promise<void> {
    this.t = t;
    await listen(t, this.records);
  }

  private async write(method: string, url: string, body?: unknown): Promise<any> {
    const res = await this.t.http(method, url, body);
    if (res.status >= 200 && res.status < 300) this.writes.ok += 1;
    else if (res.status >= 400 && res.status < 500) this.writes.refused += 1; // a change the ledger refuses (same plan, seats below assigned…)
    else throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.status < 300 ? res.body : null;
  }

  async grant(customerId: string, sku: string): Promise<void> {
    const body = await this.write('POST', '/v1/entitlements', { customerId, sku, quantity: 2 });
    if (body) this.owned.set(customerId, [...(this.owned.get(customerId) ?? []), { id: body.entitlementId, sku }]);
  }

  /** One step of the ledger's life, chosen by the round number: every kind of change comes back regularly, and usage is reported often. */
  async change(round: number): Promise<void> {
    if (round % 3 === 0) await this.report(CUSTOMERS[(round / 3) % CUSTOMERS.length]!);
    const customer = CUSTOMERS[round % CUSTOMERS.length]!;
    const list = this.owned.get(customer) ?? [];
    const e = list[round % Math.max(1, list.length)];
    if (!e) return this.grant(customer, round % 2 ? 'ANL-PRO' : 'DSG-PRO');
    const family = ANALYTICS.includes(e.sku) ? ANALYTICS : DESIGNER.includes(e.sku) ? DESIGNER : null;
    const base = `/v1/entitlements/${e.id}`;
    switch (Math.floor(round / CUSTOMERS.length) % 9) {
      case 0:
      case 5: {
        if (!family) return this.write('POST', `${base}/seat-assignments`, { userId: USERS[round % USERS.length] });
        // Upgrades and downgrades, one tier at a time, up and down the product's plans.
        const tier = family.indexOf(e.sku);
        const next = family[tier === family.length - 1 ? tier - 1 : round % 3 === 0 && tier > 0 ? tier - 1 : tier + 1]!;
        if (await this.write('POST', `${base}/change-plan`, { sku: next })) e.sku = next;
        return;
      }
      case 1:
        return this.write('POST', `${base}/seat-assignments`, { userId: USERS[round % USERS.length] });
      case 2:
        return this.write('POST', `${base}/suspend`, { reason: `unpaid invoice ${round}` });
      case 3:
        return this.write('POST', `${base}/reinstate`, { reason: 'paid' });
      case 4:
        return ANALYTICS.includes(e.sku) ? this.write('POST', `${base}/add-ons`, { sku: round % 2 ? 'ANL-ADDON-API-50K' : 'ANL-ADDON-AI', quantity: 1 }) : this.write('POST', `${base}/devices`, { deviceId: `d-${round % 4}`, userId: 'u-0' });
      case 6:
        return ANALYTICS.includes(e.sku) ? this.write('DELETE', `${base}/add-ons/ANL-ADDON-AI`) : this.write('DELETE', `${base}/seat-assignments/${USERS[round % USERS.length]}`);
      case 7: {
        // Revoked, and (every other time) the customer buys again: a new entitlement next to the revoked one.
        await this.write('POST', `${base}/revoke`, { reason: `chargeback ${round}` });
        this.owned.set(customer, list.filter((x) => x !== e));
        if (round % 2 === 0) await this.grant(customer, e.sku);
        return;
      }
      default:
        return this.report(customer);
    }
  }

  /** Usage towards the capped meters: api_calls (1,000 a month on ANL-FREE), render_minutes (600 on DSG-PRO), decrypt_ops (500 a day on VLT-FREE). */
  async report(customerId: string): Promise<void> {
    const time = new Date().toISOString();
    const events = (['api_calls', 'render_minutes', 'decrypt_ops'] as const).map((feature) => ({
      specversion: '1.0',
      id: `u-${++this.usageSeq}`,
      source: 'urn:app:replay-test',
      type: 'io.ledger.usage.v1',
      subject: customerId,
      time,
      data: { feature, quantity: feature === 'render_minutes' ? 45 : 90 },
    }));
    await this.write('POST', '/v1/usage', { events });
  }

  private checks(round: number): Check[] {
    const out: Check[] = [];
    const now = Date.now();
    for (let i = 0; out.length < 100; i++) {
      const customerId = CUSTOMERS[(round + i) % CUSTOMERS.length]!;
      const k = (round * 7 + i) % 14;
      // A year and a week on: Analytics Pro (12 months, 14 days' grace) is in grace; much later everything with a term has expired; yesterday nothing had started.
      const at = k === 11 ? new Date(now + 372 * 86_400_000).toISOString() : k === 12 ? new Date(now + 800 * 86_400_000).toISOString() : k === 13 ? new Date(now - 86_400_000).toISOString() : undefined;
      const feature = ['dashboards', 'api_calls', 'render_minutes', 'decrypt_ops', 'sso', 'editor', 'projects', 'ai_insights', 'secrets', 'reports.export'][(round + i * 3) % 10]!;
      out.push({
        customerId,
        feature,
        ...(['api_calls', 'render_minutes', 'decrypt_ops', 'projects', 'secrets'].includes(feature) ? { quantity: [1, 10, 100, 400, 950, 150_000][(round + i) % 6] } : {}),
        ...(i % 4 === 1 ? { userId: USERS[(round + i) % USERS.length] } : {}),
        ...(i % 6 === 2 ? { deviceId: `d-${i % 4}` } : {}),
        ...(i % 9 === 4 ? { region: ['EU', 'US', 'APAC'][(round + i) % 3] } : {}),
        ...(i % 10 === 7 ? { productId: i % 20 === 7 ? 'analytics' : 'designer' } : {}),
        ...(at ? { at } : {}),
      });
    }
    return out;
  }

  /** Batches of checks (and single ones), never waiting for any write: each is decided at whatever position the view is at. */
  async check(round: number): Promise<void> {
    const checks = this.checks(round);
    if (round % 5 === 0) {
      for (const c of checks.slice(0, 10)) {
        const res = await this.t.http<CheckResponseV1>('POST', '/v1/check', c);
        expect(res.status).toBe(200);
        const { stale: _s, ...answer } = res.body;
        this.answers.push(answer);
      }
      return;
    }
    const res = await this.t.http<CheckBatchResponseV1>('POST', '/v1/check/batch', { checks });
    expect(res.status).toBe(200);
    for (const d of res.body.results) this.answers.push({ ...d, position: res.body.position, catalogVersion: res.body.catalogVersion });
  }

  /** Writes (several writers at once) and checks at the same time, until both have done `rounds`. */
  async phase(rounds: number, writers = 4): Promise<void> {
    let writing = writers;
    const writer = async () => {
      for (let r = 0; r < rounds / writers; r++) await this.change(this.steps++);
      writing -= 1;
    };
    const checker = async () => {
      for (let r = 0; r < rounds || writing > 0; r++) await this.check(this.batches++);
    };
    await Promise.all([...Array.from({ length: writers }, writer), checker()]);
  }
}

/** What the audit service would keep: every record published on enforcement.decisions.v1 in this process. */
async function listen(t: EmbeddedApp, records: DecisionRecordV1[]): Promise<void> {
  await t.app.get<IntegrationEvents>(INTEGRATION_EVENTS).consume(TOPICS.decisions, 'replay-test', async (m) => void records.push(jsonOf<DecisionRecordV1>(m)));
}

async function wholeLog(store: EventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (let after = 0; ; ) {
    const page = await store.readAll({ after, maxCount: 5_000 });
    if (page.length === 0) return out;
    out.push(...page);
    after = page[page.length - 1]!.position;
  }
}

/** Per customer, the events a replay reads: its entitlement streams and the catalog stream, in log order. */
function historiesOf(log: readonly RecordedEvent[], customers: readonly string[]): Map<string, RecordedEvent[]> {
  const streamsOf = new Map<string, Set<string>>();
  for (const e of log) {
    if (e.type !== 'EntitlementGranted') continue;
    const customerId = (e.data as { customerId: string }).customerId;
    streamsOf.set(customerId, (streamsOf.get(customerId) ?? new Set()).add(e.stream));
  }
  return new Map(customers.map((c) => [c, log.filter((e) => e.stream === CATALOG_STREAM || streamsOf.get(c)?.has(e.stream))]));
}

/**
 * The records whose replay (decision, and catalog version in force) differs from what was recorded.
 * Decisions made before any catalog version reached the service (catalogVersion null) named the
 * plans of its CATALOG_PATH file, the sample catalog: the replay is told so.
 */
function mismatchesOf(records: readonly DecisionRecordV1[], histories: ReadonlyMap<string, readonly RecordedEvent[]>): unknown[] {
  const out: unknown[] = [];
  const fallbackCatalog = sampleCatalog().catalog;
  for (const r of records) {
    const events = histories.get(r.request.customerId)!.filter((e) => e.position <= r.position);
    const replayed = replayDecision({ events, request: r.request, atMs: r.atMs, usage: r.usage, fallbackCatalog });
    const catalogVersion = catalogInForceAt(events)?.version ?? null;
    if (JSON.stringify({ ...replayed, catalogVersion }) !== JSON.stringify({ ...r.decision, catalogVersion: r.catalogVersion })) out.push({ record: r, replayed, catalogVersion });
  }
  return out;
}

/** The sample catalog with every plan renamed: hints decided under it name other plans than under the first. */
function renamedCatalog(path: string): string {
  const sample = parse(readFileSync(join(REPO, 'catalog', 'sample-catalog.yaml'), 'utf8')) as Catalog & { products: { plans: { name: string }[] }[] };
  for (const product of sample.products) for (const plan of product.plans) plan.name = `${plan.name} (2027)`;
  writeFileSync(path, JSON.stringify({ ...sample, label: '2027-01' }));
  return path;
}

describe('replayable decisions', () => {
  const env = { DECISION_LOG_ALLOW_SAMPLE: '1', DECISION_LOG_BUFFER: '100000', RATE_LIMIT_WRITES_PER_SECOND: '0' };
  let t: EmbeddedApp | null = null;
  afterAll(async () => t?.close());

  it('records thousands of decisions made under upgrades, downgrades, suspensions, revocations, add-ons, seats and usage, and replays every one of them from the ledger to exactly what was answered', async () => {
    t = await startEmbeddedApp(env);
    const records: DecisionRecordV1[] = [];
    await listen(t, records);
    const run = new Run(t, records);
    for (const customer of CUSTOMERS) for (const sku of INITIAL[customer]) await run.grant(customer, sku);
    await t.viewAtHead();
    await until('metering to know the meters', async () => (await t!.http('GET', '/v1/customers/c-free/usage')).status === 200, { timeoutMs: 10_000 });

    await run.phase(120);
    await t.app.get(DecisionLog).flushed();

    // The catalog file changes and the process restarts: the ledger publishes version 2, the view (restored from its snapshot) puts it in force.
    const dataDir = t.dataDir;
    await t.close(true);
    t = null;
    t = await startEmbeddedApp({ ...env, CATALOG_PATH: renamedCatalog(join(dataDir, 'catalog-2027.json')) }, dataDir);
    await run.restarted(t);
    await t.viewAtHead();
    await run.phase(60);
    await t.app.get(DecisionLog).flushed();

    // Every decision answered was recorded, in the order answered, with the position and catalog version it was answered with.
    expect(records).toHaveLength(run.answers.length);
    expect(run.answers.length).toBeGreaterThan(2_000);
    const recorded = records.map((r) => ({ ...r.decision, position: r.position, catalogVersion: r.catalogVersion }));
    expect(recorded).toEqual(run.answers);

    // Replayed from the ledger: the customer's entitlement streams and the catalog stream, up to each record's position.
    const histories = historiesOf(await wholeLog(t.store), CUSTOMERS);
    expect(mismatchesOf(records, histories).slice(0, 3)).toEqual([]);

    // The run meant something: decisions at many positions, under both catalogs, with every kind of outcome, and usage that decided some of them.
    expect(run.writes.ok).toBeGreaterThan(150);
    expect(new Set(records.map((r) => r.position)).size).toBeGreaterThan(40);
    expect(new Set(records.map((r) => r.catalogVersion))).toEqual(new Set([1, 2]));
    const codes = new Set<string>(records.map((r) => r.decision.code));
    for (const code of ['OK', 'OVERAGE', 'IN_GRACE', 'NO_ENTITLEMENT', 'REVOKED', 'SUSPENDED', 'NOT_YET_ACTIVE', 'EXPIRED', 'FEATURE_NOT_INCLUDED', 'REGION_BLOCKED', 'SEAT_NOT_ASSIGNED', 'DEVICE_LIMIT', 'USAGE_CAP_REACHED']) {
      expect({ code, seen: codes.has(code) }).toEqual({ code, seen: true });
    }
    expect(records.some((r) => r.catalogVersion === 2 && r.decision.upgradeHint?.name.endsWith('(2027)'))).toBe(true);
    const usageDecided = records.filter((r) => r.usage.some((u) => u.value > 0) && r.decision.code === 'USAGE_CAP_REACHED');
    expect(usageDecided.length).toBeGreaterThan(0);
    // Without the recorded usage those decisions come out differently: the usage in the record is what makes them replayable.
    const r = usageDecided[0]!;
    const events = histories.get(r.request.customerId)!.filter((e) => e.position <= r.position);
    expect(replayDecision({ events, request: r.request, atMs: r.atMs, usage: [] })).not.toEqual(r.decision);

    // The audit service (in this process, before and after the restart) kept the decision log, and its replay route
    // recomputes each decision from the history it logged and proves — to exactly what was answered.
    await t.auditAtHead();
    const heard = records;
    const kept = await until('the audit service to keep the decision log', async () => {
      const all: DecisionRecordV1[] = [];
      for (let cursor: number | null = 0; cursor !== null; ) {
        const page: { status: number; body: { items: DecisionRecordV1[]; nextCursor: number | null } } = await t!.http('GET', `/v1/audit/decisions?limit=500&cursor=${cursor}`);
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      }
      return all.length >= heard.length ? all : null;
    }, { timeoutMs: 30_000 });
    expect(new Set(kept.map((x) => x.id))).toEqual(new Set(heard.map((x) => x.id)));
    const replays: unknown[] = [];
    for (const x of heard) {
      const res = await t.http('POST', '/v1/audit/decisions/replay', { decisionId: x.id });
      if (res.status !== 200 || res.body.matches !== true || res.body.catalogVersion !== x.catalogVersion) replays.push({ id: x.id, status: res.status, body: res.body });
    }
    expect(replays.slice(0, 3)).toEqual([]);
    // The same from the inputs alone, and a decision that was not answered is told apart.
    const one = heard.find((x) => !x.decision.allowed)!;
    const direct = await t.http('POST', '/v1/audit/decisions/replay', { request: one.request, position: one.position, at: one.at, usage: one.usage, answered: one.decision });
    expect(direct.body).toMatchObject({ matches: true, decision: one.decision, differences: [] });
    const forged = await t.http('POST', '/v1/audit/decisions/replay', { request: one.request, position: one.position, at: one.at, usage: one.usage, answered: { ...one.decision, allowed: true, code: 'OK' } });
    expect(forged.body).toMatchObject({ matches: false, differences: ['allowed', 'code'] });
    const bad = await t.http('POST', '/v1/audit/decisions/replay', { request: { customerId: 'c-1' }, position: -1, at: 'yesterday' });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const ahead = await t.http('POST', '/v1/audit/decisions/replay', { request: one.request, position: 10_000_000, at: one.at });
    expect([ahead.status, ahead.body.code]).toEqual([409, 'AUDIT.POSITION_NOT_LOGGED']);
  }, 600_000);
});

/**
 * The same over Kafka, where the enforcement view reads three partitions
 * independently: a customer's changes often arrive before the watermark that
 * makes them safe, and other partitions lag or lead. Every decision must still
 * be the ledger's state at exactly the position it names.
 */
describeWithKafka('replayable decisions over Kafka', () => {
  const run = randomUUID().slice(0, 8);
  const customers = Array.from({ length: 6 }, (_, i) => `k-${run}-${i}`);
  let dir: string;
  let store: SqliteEventStore;
  let relay: EntitlementRelay;
  let relayBus: KafkaIntegrationEvents;
  let auditBus: KafkaIntegrationEvents;
  const topic = `ledger.entitlements.v1.replay-${run}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-replay-kafka-'));
    store = SqliteEventStore.open({ path: join(dir, 'events.db'), pollIntervalMs: 2 });
    relayBus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'relay', partitions: 3, log: () => undefined });
    // Small relay batches: many watermarks, and changes of one write often split from their watermark.
    relay = new EntitlementRelay(store, relayBus, new InMemoryCheckpointStore(), { subscriptionId: 'relay', topic, batchSize: 7 });
    auditBus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'audit', partitions: 3, log: () => undefined });
    await relay.start();
  });
  afterAll(async () => {
    await relay.stop();
    await relayBus.close();
    await auditBus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every decision answered while three partitions are read independently replays to exactly what was answered', async () => {
    const app = await startEnforcementApp({
      dataDir: dir,
      bus: { kind: 'kafka', brokers: kafkaForTests.brokers, clientId: 'enforcement', partitions: 3 },
      topic,
      env: { DECISION_LOG_ALLOW_SAMPLE: '1', DECISION_LOG_BUFFER: '100000' },
    });
    try {
      const records = new Map<string, DecisionRecordV1>();
      await auditBus.ensureTopics([TOPICS.decisions]);
      // The topic is shared by every test on this broker: this run's customers are its own.
      const mine = new Set(customers);
      await auditBus.consume(TOPICS.decisions, `replay-${run}`, async (m) => {
        const r = jsonOf<DecisionRecordV1>(m);
        if (mine.has(r.request.customerId)) records.set(r.id, r);
      });

      const catalogs = new LedgerLog(store, `cat-${run}`);
      await catalogs.publishCatalog();
      const writers = customers.map((_, i) => new LedgerLog(store, `w${i}-${run}`));
      const tryTo = async (log: LedgerLog, id: string, command: (m: CommandMetadata) => EntitlementCommand): Promise<number | null> => {
        try {
          return await log.entitlement(id, command);
        } catch {
          return null; // a change the domain refuses in this state
        }
      };
      const answers: Answer[] = [];
      const features = ['dashboards', 'sso', 'ai_insights', 'editor', 'plugins', 'reports.export'];
      const check = async (round: number, i: number) => {
        const checks = Array.from({ length: 20 }, (_, k) => ({
          customerId: customers[(i + k) % customers.length]!,
          feature: features[(round + k * 5) % features.length]!,
          at: k % 7 === 3 ? '2025-06-01T00:00:00Z' : '2026-01-15T00:00:00Z',
          ...(k % 3 === 1 ? { userId: `u-${k % 3}` } : {}),
          ...(k % 5 === 2 ? { deviceId: `d-${k % 4}` } : {}),
        }));
        const res = await app.post<CheckBatchResponseV1>('/v1/check/batch', { checks });
        expect(res.status).toBe(200);
        for (const d of res.body.results) answers.push({ ...d, position: res.body.position, catalogVersion: res.body.catalogVersion });
      };
      // Each writer changes its customer's entitlements and checks after every change, never waiting for the view.
      const write = async (i: number) => {
        const log = writers[i]!;
        const customerId = customers[i]!;
        let current = '';
        for (let round = 0; round < 30; round++) {
          // A new entitlement at the start, and one round after each revocation (the customer buys again).
          if (round % 8 === 0) {
            current = `${customerId}-e${round}`;
            await log.orderGrant(`SO-${current}`, customerId, current, i % 2 ? 'DSG-PRO' : 'ANL-PRO', 2);
          }
          const catalog = sampleCatalog();
          const steps: ((m: CommandMetadata) => EntitlementCommand)[] = [
            (m) => ({ type: 'AssignSeat', data: { userId: `u-${round % 3}` }, metadata: m }),
            (m) => ({ type: 'ChangePlan', data: { catalog, sku: i % 2 ? 'DSG-ENT' : 'ANL-ENT' }, metadata: m }),
            (m) => ({ type: 'SuspendEntitlement', data: { reason: `unpaid ${round}` }, metadata: m }),
            (m) => ({ type: 'ReinstateEntitlement', data: { reason: 'paid' }, metadata: m }),
            (m) => ({ type: 'ChangePlan', data: { catalog, sku: i % 2 ? 'DSG-PRO' : 'ANL-PRO', direction: 'downgrade' }, metadata: m }),
            (m) => (i % 2 ? { type: 'ActivateDevice', data: { deviceId: `d-${round % 4}`, userId: 'u-0' }, metadata: m } : { type: 'AttachAddOn', data: { catalog, sku: 'ANL-ADDON-AI', quantity: 1 }, metadata: m }),
            (m) => ({ type: 'ReleaseSeat', data: { userId: `u-${round % 3}` }, metadata: m }),
            (m) => ({ type: 'RevokeEntitlement', data: { reason: `chargeback ${round}` }, metadata: m }),
          ];
          const changed = await tryTo(log, current, steps[round % steps.length]!);
          // After a suspension or a revocation, this round's checks wait until the view has it (the next round undoes it).
          if (changed && (round % 8 === 2 || round % 8 === 7)) await app.until(changed);
          if (round === 15 && i === 0) await catalogs.publishCatalog({ ...catalog.catalog, label: 'v2', products: catalog.catalog.products.map((p) => ({ ...p, plans: p.plans.map((plan) => ({ ...plan, name: `${plan.name} v2` })) })) });
          await check(round, i);
        }
      };
      await Promise.all(customers.map((_, i) => write(i)));
      await app.app.get(DecisionLog).flushed();
      await until('every decision record back from Kafka', () => records.size >= answers.length, { timeoutMs: 60_000 });

      // Every answer has its record (compared as a multiset: records of different customers travel on different partitions).
      const key = (a: Answer) => JSON.stringify([a.position, a.catalogVersion, a.allowed, a.code, a.entitlementId, a.remaining, a.expiresAt, a.upgradeHint, a.reason]);
      const recorded = [...records.values()].map((r) => key({ ...r.decision, position: r.position, catalogVersion: r.catalogVersion }));
      expect(recorded.sort()).toEqual(answers.map(key).sort());
      expect(records.size).toBeGreaterThan(1_000);

      const histories = historiesOf(await wholeLog(store), customers);
      expect(mismatchesOf([...records.values()], histories).slice(0, 3)).toEqual([]);
      // Decisions at many positions, under both catalog versions, with the outcomes the changes cause.
      expect(new Set([...records.values()].map((r) => r.position)).size).toBeGreaterThan(20);
      // (null too, for decisions made before the first version reached the view.)
      expect([...new Set([...records.values()].map((r) => r.catalogVersion))].filter((v) => v !== null).sort()).toEqual([1, 2]);
      const codes = new Set<string>([...records.values()].map((r) => r.decision.code));
      for (const code of ['OK', 'NOT_YET_ACTIVE', 'SUSPENDED', 'REVOKED', 'FEATURE_NOT_INCLUDED', 'SEAT_NOT_ASSIGNED', 'DEVICE_LIMIT']) expect({ code, seen: codes.has(code) }).toEqual({ code, seen: true });
    } finally {
      await app.close();
    }
  }, 600_000);
});
