import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@el/testing';
import { start, type Running } from './testing/embedded-process';

/**
 * kill -9 during usage ingestion: several clients POST batches of usage with
 * unique (source, id) to the real embedded process, which is SIGKILLed while
 * batches are in flight. After a restart on the same DATA_DIR the clients
 * resend every batch that was not acknowledged, and some that were (an
 * at-least-once client does not know which answers it lost). Then every
 * acknowledged event is stored at the position it was acknowledged with, no
 * event is counted twice, and the counter equals the quantities of the
 * distinct events stored — which are all the events sent.
 */
describe('metering: kill -9 during usage ingestion', () => {
  const CLIENTS = 4;
  const BATCHES = 25; // per client
  const EVENTS = 400; // per batch
  const KILL_AFTER = 30; // acknowledged batches, of CLIENTS × BATCHES
  const customer = 'acme';
  let dataDir: string;
  const running: Running[] = [];
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'el-metering-crash-'))));
  afterEach(async () => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  interface UsageEvent {
    readonly id: string;
    readonly source: string;
    readonly type: string;
    readonly subject: string;
    readonly time: string;
    readonly data: { readonly feature: string; readonly quantity: number; readonly userId: string };
  }
  interface Answer {
    readonly accepted: number;
    readonly duplicates: number;
    readonly rejected: number;
    readonly results: readonly { readonly id: string; readonly status: string; readonly position?: number; readonly code?: string }[];
  }

  const boot = async (): Promise<Running> => {
    const app = await start({ DATA_DIR: dataDir, RATE_LIMIT_WRITES_PER_SECOND: '0' });
    running.push(app);
    expect(app.output()).toContain('is up');
    return app;
  };
  const meterOf = async (app: Running) => {
    const res = await app.fetch(`/v1/customers/${customer}/usage`);
    if (res.status !== 200) return null;
    const body = (await res.json()) as { meters: { feature: string; used: number }[] };
    return body.meters.find((m) => m.feature === 'api_calls') ?? null;
  };
  const send = async (app: Running, batch: readonly UsageEvent[]): Promise<Answer> => {
    const res = await app.fetch('/v1/usage', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: batch }) });
    if (res.status !== 200) throw new Error(`POST /v1/usage answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Answer;
  };

  it('loses no acknowledged event and counts none twice, after a restart and the clients’ resends', async () => {
    let app = await boot();
    // ANL-PRO meters api_calls per month (soft cap 100,000): every event below is counted.
    const granted = await app.fetch('/v1/entitlements', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId: customer, sku: 'ANL-PRO' }) });
    expect(granted.status).toBe(201);
    await until('metering to learn the meter', async () => (await meterOf(app)) !== null, { timeoutMs: 20_000 });

    const time = new Date().toISOString();
    const batches: UsageEvent[][][] = Array.from({ length: CLIENTS }, (_, c) =>
      Array.from({ length: BATCHES }, (_, b) =>
        Array.from({ length: EVENTS }, (_, i) => ({
          id: `b${b}-e${i}`,
          source: `urn:crash-test:client-${c}`,
          type: 'io.ledger.usage.v1',
          subject: customer,
          time,
          data: { feature: 'api_calls', quantity: 1 + ((c * 7 + b * 3 + i) % 5), userId: `u-${i % 13}` },
        })),
      ),
    );
    const keyOf = (e: UsageEvent) => `${e.source}\u0000${e.id}`;
    const expectedTotal = batches.flat(2).reduce((s, e) => s + e.data.quantity, 0);

    // The first run: each client sends its batches one after another until the process dies under it.
    const acked = new Map<string, number>(); // event → the position its acknowledgement carried
    const ackedBatches = Array.from({ length: CLIENTS }, () => new Set<number>());
    let ackedCount = 0;
    let inFlight = 0;
    let inFlightAtKill = -1;
    let killed = false;
    await Promise.all(
      batches.map(async (own, c) => {
        for (let b = 0; b < own.length; b++) {
          let answer: Answer;
          inFlight += 1;
          try {
            answer = await send(app, own[b]!);
          } catch (err) {
            if (!killed) throw err;
            return; // killed under this request: not acknowledged
          } finally {
            inFlight -= 1;
          }
          expect(answer.accepted).toBe(EVENTS);
          for (const r of answer.results) acked.set(`${own[b]![0]!.source}\u0000${r.id}`, r.position!);
          ackedBatches[c]!.add(b);
          if (++ackedCount === KILL_AFTER) {
            // The others' requests are in flight now: the kill lands in the middle of ingestion.
            inFlightAtKill = inFlight;
            killed = true;
            app.child.kill('SIGKILL');
          }
        }
      }),
    );
    expect((await app.exited).signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(ackedCount).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(ackedCount).toBeLessThan(CLIENTS * BATCHES);

    app = await boot();
    await until('metering to learn the meter again', async () => (await meterOf(app)) !== null, { timeoutMs: 20_000 });

    // Before any resend: every acknowledged event is stored, at its position, and the counter is the sum of the rows.
    const read = () => new Database(join(dataDir, 'metering.db'), { readonly: true, fileMustExist: true });
    let db = read();
    try {
      const stored = new Map((db.prepare('SELECT source, id, position FROM mt_usage_events').all() as { source: string; id: string; position: number }[]).map((r) => [`${r.source}\u0000${r.id}`, r.position]));
      const lost = [...acked].filter(([k, position]) => stored.get(k) !== position);
      expect(lost).toEqual([]);
      const rows = db.prepare('SELECT COALESCE(SUM(quantity), 0) AS total FROM mt_usage_events WHERE customer_id = ?').get(customer) as { total: number };
      expect((await meterOf(app))!.used).toBe(rows.total);
    } finally {
      db.close();
    }

    // The clients resend what was not acknowledged, and every third batch that was.
    let resentAcked = 0;
    await Promise.all(
      batches.map(async (own, c) => {
        for (let b = 0; b < own.length; b++) {
          const wasAcked = ackedBatches[c]!.has(b);
          if (wasAcked && b % 3 !== 0) continue;
          const answer = await send(app, own[b]!);
          expect(answer.rejected).toBe(0);
          expect(answer.accepted + answer.duplicates).toBe(EVENTS);
          if (wasAcked) {
            resentAcked += 1;
            expect(answer.duplicates).toBe(EVENTS);
            for (const r of answer.results) expect(r.position).toBe(acked.get(`${own[b]![0]!.source}\u0000${r.id}`));
          }
        }
      }),
    );
    expect(resentAcked).toBeGreaterThan(0);

    // Every distinct event sent is counted once: the API's counter, the counter row and the raw rows agree.
    expect((await meterOf(app))!.used).toBe(expectedTotal);
    db = read();
    try {
      const rows = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT source || char(0) || id) AS distinctIds, SUM(quantity) AS total FROM mt_usage_events WHERE customer_id = ?').get(customer);
      expect(rows).toEqual({ n: CLIENTS * BATCHES * EVENTS, distinctIds: CLIENTS * BATCHES * EVENTS, total: expectedTotal });
      const stored = new Set((db.prepare('SELECT source, id FROM mt_usage_events').all() as { source: string; id: string }[]).map((r) => `${r.source}\u0000${r.id}`));
      expect(batches.flat(2).filter((e) => !stored.has(keyOf(e)))).toEqual([]);
      expect(db.prepare('SELECT SUM(value) AS value, SUM(events) AS events FROM mt_counters').get()).toEqual({ value: expectedTotal, events: CLIENTS * BATCHES * EVENTS });
      // Each stored event has a position of its own (none handed out twice across the crash).
      expect(db.prepare('SELECT COUNT(DISTINCT position) AS n FROM mt_usage_events').get()).toEqual({ n: CLIENTS * BATCHES * EVENTS });
    } finally {
      db.close();
    }
  }, 180_000);
});
