import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { decisionRecordSchemaV1, TOPICS, type DecisionRecordV1 } from '@el/contracts';
import type { Decision } from '@el/domain';
import { SqliteEventStore, type EventStore } from '@el/event-store';
import { InProcessIntegrationEvents, jsonOf } from '@el/messaging';
import { ConfigError, IdGenerator, Metrics } from '@el/platform';
import { readEnforcementServiceConfig, type EnforcementConfig } from '../enforcement.config';
import { DecisionLog, type DecisionToLog } from './decision-log';
import { DecisionSampler } from './decision-sampler';
import { UsageRecorder } from './usage-recorder';

const ok: Decision = { allowed: true, code: 'OK', entitlementId: 'e1', remaining: null, expiresAt: null, upgradeHint: null, reason: 'ok' };
const denied: Decision = { allowed: false, code: 'SUSPENDED', entitlementId: 'e1', remaining: null, expiresAt: null, upgradeHint: null, reason: 'entitlement is suspended: unpaid' };

/** A random source that answers the given draws in order, and says how many were taken. */
function draws(...values: number[]) {
  let i = 0;
  const next = () => {
    if (i >= values.length) throw new Error('no draw left');
    return values[i++]!;
  };
  return Object.assign(next, { taken: () => i });
}

describe('the decision log sample', () => {
  it('keeps every denial without a draw, and an allow when its draw is below the rate', () => {
    const random = draws(0.1, 0.3, 0.2499, 0.25, 0.9);
    const sampler = new DecisionSampler(0.25, random);
    expect([denied, denied, denied].map((d) => sampler.keeps(d))).toEqual([true, true, true]);
    expect(random.taken()).toBe(0);
    expect([ok, ok, ok, ok, ok].map((d) => sampler.keeps(d))).toEqual([true, false, true, false, false]);
  });

  it('at 0 keeps denials only, at 1 every decision, without drawing', () => {
    const random = draws();
    expect([ok, denied].map((d) => new DecisionSampler(0, random).keeps(d))).toEqual([false, true]);
    expect([ok, denied].map((d) => new DecisionSampler(1, random).keeps(d))).toEqual([true, true]);
    expect(() => new DecisionSampler(1.5)).toThrow(RangeError);
  });

  it('is configured by DECISION_LOG_ALLOW_SAMPLE, 0 to 1, checked at boot with the variable named', () => {
    expect(readEnforcementServiceConfig({}).DECISION_LOG_ALLOW_SAMPLE).toBe(0.01);
    expect(readEnforcementServiceConfig({ DECISION_LOG_ALLOW_SAMPLE: '0.5' }).DECISION_LOG_ALLOW_SAMPLE).toBe(0.5);
    expect(readEnforcementServiceConfig({ DECISION_LOG_ALLOW_SAMPLE: '1' }).DECISION_LOG_ALLOW_SAMPLE).toBe(1);
    for (const bad of ['1.5', '-0.1', 'often', '5%', 'NaN']) {
      expect(() => readEnforcementServiceConfig({ DECISION_LOG_ALLOW_SAMPLE: bad })).toThrow(ConfigError);
      expect(() => readEnforcementServiceConfig({ DECISION_LOG_ALLOW_SAMPLE: bad })).toThrow(/DECISION_LOG_ALLOW_SAMPLE: must be a number from 0 to 1/);
    }
    expect(() => readEnforcementServiceConfig({ DECISION_LOG_BUFFER: '0' })).toThrow(/DECISION_LOG_BUFFER/);
  });
});

describe('the usage a decision read', () => {
  it('is every value the lookup answered since the check began, in order', () => {
    const source = (entitlementId: string, feature: string) => (entitlementId === 'e1' ? 40 : feature === 'api_calls' ? 7 : (undefined as unknown as number));
    const recorder = new UsageRecorder(source);
    recorder.begin();
    expect(recorder.lookup('e1', 'api_calls', 'month', 0)).toBe(40);
    expect(recorder.lookup('e2', 'api_calls', 'day', 0)).toBe(7);
    expect(recorder.lookup('e2', 'seats', null, 0)).toBe(0);
    expect(recorder.recorded()).toEqual([
      { entitlementId: 'e1', feature: 'api_calls', period: 'month', value: 40 },
      { entitlementId: 'e2', feature: 'api_calls', period: 'day', value: 7 },
      { entitlementId: 'e2', feature: 'seats', period: null, value: 0 },
    ]);
    recorder.begin();
    expect(recorder.recorded()).toEqual([]);
    // No usage source in the process: every meter reads 0, and the record says so.
    const none = new UsageRecorder();
    none.begin();
    expect(none.lookup('e1', 'api_calls', 'month', 0)).toBe(0);
    expect(none.recorded()).toEqual([{ entitlementId: 'e1', feature: 'api_calls', period: 'month', value: 0 }]);
  });
});

describe('DecisionLog on the in-process bus', () => {
  let dir: string;
  let store: EventStore;
  let bus: InProcessIntegrationEvents;
  let metrics: Metrics;
  const ids = new (class extends IdGenerator {
    random() {
      return 'proc-1';
    }
  })();
  const open = (buffer = 10_000, sample = 1) => new DecisionLog({ DECISION_LOG_ALLOW_SAMPLE: sample, DECISION_LOG_BUFFER: buffer } as EnforcementConfig, bus, ids, metrics, () => 0.5);
  const entry = (i: number, decision: Decision = ok): DecisionToLog => ({
    request: { customerId: `c-${i % 3}`, feature: 'api_calls', quantity: 2 },
    atMs: Date.parse('2026-06-01T00:00:00.000Z') + i,
    decidedAtMs: Date.parse('2026-06-01T00:00:00.000Z') + i,
    decision,
    position: 10 + i,
    catalogVersion: 1,
    stale: false,
    usage: [{ entitlementId: 'e1', feature: 'api_calls', period: 'month', value: i }],
  });
  const counter = async (name: string) => {
    const values = (await metrics.registry.getSingleMetric(name)!.get()).values;
    return Object.fromEntries(values.map((v) => [JSON.stringify(v.labels), v.value]));
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'el-decision-log-'));
    store = SqliteEventStore.open({ path: join(dir, 'events.db') });
    bus = new InProcessIntegrationEvents(store);
    metrics = new Metrics();
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every record it is given in the background, keyed by customer, in the order decided, as the contract documents', async () => {
    const got: { key: string | null; record: DecisionRecordV1 }[] = [];
    await bus.consume(TOPICS.decisions, 'audit', async (m) => void got.push({ key: m.key, record: jsonOf<DecisionRecordV1>(m) }));
    const log = open();
    for (let i = 0; i < 1_200; i++) log.record(entry(i, i % 4 === 0 ? denied : ok));
    // Recording never waited for the bus: nothing has been delivered yet.
    expect({ delivered: got.length, buffered: log.buffered }).toEqual({ delivered: 0, buffered: 1_200 });
    await log.flushed();
    expect(got).toHaveLength(1_200);
    expect(got.map((g) => g.record.position)).toEqual(Array.from({ length: 1_200 }, (_, i) => 10 + i));
    expect(new Set(got.map((g) => g.record.id)).size).toBe(1_200);
    const validate = new Ajv({ strict: false, validateFormats: false }).compile(decisionRecordSchemaV1);
    for (const { key, record } of got.slice(0, 10)) {
      expect({ key, valid: validate(record) ? null : validate.errors }).toEqual({ key: record.request.customerId, valid: null });
    }
    expect(got[3]!.record).toEqual({
      type: 'io.ledger.enforcement.decision.v1',
      id: 'proc-1:4',
      request: { customerId: 'c-0', feature: 'api_calls', quantity: 2 },
      atMs: Date.parse('2026-06-01T00:00:00.003Z'),
      at: '2026-06-01T00:00:00.003Z',
      decidedAt: '2026-06-01T00:00:00.003Z',
      decision: ok,
      position: 13,
      catalogVersion: 1,
      stale: false,
      usage: [{ entitlementId: 'e1', feature: 'api_calls', period: 'month', value: 3 }],
    });
    expect(await counter('enforcement_decision_log_records_total')).toEqual({ '{}': 1_200 });
  });

  it('when the bus cannot take records, keeps at most its buffer, counts the records it drops, and publishes the rest once the bus recovers', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const got: DecisionRecordV1[] = [];
    await bus.consume(TOPICS.decisions, 'audit', async (m) => {
      await stuck;
      got.push(jsonOf<DecisionRecordV1>(m));
    });
    const log = open(100);
    for (let i = 0; i < 250; i++) log.record(entry(i));
    expect(log.buffered).toBe(100);
    expect(await counter('enforcement_decision_log_dropped_total')).toEqual({ '{"reason":"buffer_full"}': 150 });
    release();
    await log.flushed();
    expect(got.map((r) => r.position)).toEqual(Array.from({ length: 100 }, (_, i) => 10 + i));
    // Room again: new records are taken.
    log.record(entry(999));
    await log.flushed();
    expect(got).toHaveLength(101);
  });

  it('at shutdown, counts as dropped what it could not publish in time', async () => {
    await bus.consume(TOPICS.decisions, 'audit', () => new Promise<void>(() => undefined));
    const log = open(100);
    for (let i = 0; i < 30; i++) log.record(entry(i));
    log.onApplicationShutdown();
    log.record(entry(31));
    expect(await counter('enforcement_decision_log_dropped_total')).toEqual({ '{"reason":"shutdown"}': 31 });
  });
});
