import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mutations, namesField, propertyParams, resolve, sample, serialize, type Mutation, type Schema, type SchemaDocument } from '@el/testing';
import { start, type Running } from './testing/embedded-process';

/**
 * Fuzzing every write route of the running `npm start` process (real SQLite
 * files) with hostile bodies derived from its own OpenAPI document
 * (libs/testing/src/hostile-json.ts), and with bodies no schema describes: invalid
 * JSON, prototype-poisoning keys, the wrong content type, a root that is no
 * object. Every answer must be a 4xx with the error envelope — naming the
 * broken field when one is — never a 5xx, and nothing may be stored: the
 * event store's head and the usage ledger's position are the same after the
 * request as before. Deterministic (fixed seed); a failure prints the route,
 * the body and `{ seed, path }` (replay: FC_SEED=… FC_PATH=…, see
 * libs/testing/src/property.ts).
 */

const WEBHOOK_SECRET = 'whsec_fuzz_0123456789abcdef';

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly url: string;
  readonly schema: Schema | null;
  readonly bodyOptional: boolean;
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: any;
}

/** Raw HTTP: the exact bytes and headers the test chooses (fetch would add a content type). */
function send(app: Running, method: string, url: string, body: string | Buffer, headers: Record<string, string>): Promise<Answer> {
  const target = new URL(url, app.url);
  return new Promise((resolvePromise, reject) => {
    const req = request(target, { method, headers: { ...app.admin, ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON: the check below says so */
        }
        resolvePromise({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A Stripe `invoice.payment_failed` the ledger would record: the base the webhook's hostile bodies are made from. */
const paymentFailed = {
  id: 'evt_fuzz_1',
  object: 'event',
  api_version: '2025-03-31.basil',
  created: 1_790_000_000,
  type: 'invoice.payment_failed',
  data: { object: { id: 'in_fuzz_1', object: 'invoice', customer: 'cus_fuzz', metadata: { customer_id: 'fuzz-customer' }, attempt_count: 1 } },
};

describe('hostile bodies on every write route of npm start (fast-check)', () => {
  let dataDir: string;
  let app: Running;
  let operations: Operation[] = [];

  const stored = async () => {
    const health = (await (await app.fetch('/health')).json()) as { components: { eventStore: { head: number }; metering: { usagePosition: number } } };
    return { events: health.components.eventStore.head, usage: health.components.metering.usagePosition };
  };
  /** What is stored now; between requests nothing changes unless a request stored something (which fails the test). */
  let last: { events: number; usage: number } | null = null;
  const storedBefore = async () => (last ??= await stored());

  const headersFor = (op: Operation, body: string, contentType: string | null): Record<string, string> => {
    const h: Record<string, string> = contentType === null ? {} : { 'content-type': contentType };
    if (op.path === '/v1/webhooks/payments') {
      // Signed, so that the body itself is what is judged (an unsigned one is refused before it is read).
      const t = Math.floor(Date.now() / 1000);
      h['stripe-signature'] = `t=${t},v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${t}.`).update(body).digest('hex')}`;
    }
    return h;
  };

  /** What every refusal must be, whatever the body: a 4xx in the error envelope, and nothing stored. */
  const refusedCleanly = (answer: Answer, before: { events: number; usage: number }, after: { events: number; usage: number }): string | null => {
    if (answer.status < 400 || answer.status >= 500) return `answered ${answer.status}`;
    if (!answer.json || answer.json.statusCode !== answer.status || typeof answer.json.code !== 'string' || typeof answer.json.message !== 'string') return 'no error envelope';
    if (after.events !== before.events) return `stored ${after.events - before.events} event(s)`;
    if (after.usage !== before.usage) return `recorded usage (position ${before.usage} → ${after.usage})`;
    return null;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'el-hostile-'));
    app = await start({ DATA_DIR: dataDir, RATE_LIMIT_WRITES_PER_SECOND: '0', RATE_LIMIT_CHECKS_PER_SECOND: '0', PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET });
    const doc = (await (await app.fetch('/docs/openapi.json')).json()) as SchemaDocument & {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> } }>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => {
          const schema = op.requestBody?.content?.['application/json']?.schema;
          return { method: method.toUpperCase(), path, url: path.replace(/\{[^}]+\}/g, 'x1'), schema: schema ? resolve(doc, schema) : null, bodyOptional: op.requestBody?.required === false };
        }),
    );
  });
  afterAll(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('knows every write route (the walks below cover the whole API)', () => {
    expect(operations.filter((o) => o.schema).length).toBeGreaterThanOrEqual(24);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(expect.arrayContaining(['POST /v1/orders', 'POST /v1/usage', 'POST /v1/webhooks/payments', 'DELETE /v1/entitlements/{id}/devices/{deviceId}']));
  });

  it('refuses a body broken at any field with 400 naming that field, and stores nothing', async () => {
    const failures: string[] = [];
    for (const op of operations.filter((o) => o.schema)) {
      const webhook = op.path === '/v1/webhooks/payments';
      // The webhook's base is an event the ledger would record; of it the ledger reads all but api_version.
      const arbitrary = mutations(op.schema!, { ...(webhook ? { base: paymentFailed, skip: ['api_version'] } : {}), bodyOptional: op.bodyOptional });
      try {
        await fc.assert(
          fc.asyncProperty(arbitrary, async (m: Mutation) => {
            const body = serialize(m.body);
            const before = await storedBefore();
            const answer = await send(app, op.method, op.url, body, headersFor(op, body, 'application/json'));
            const after = (last = await stored());
            const batch = op.path === '/v1/usage' ? usageBatchProblem(m, answer) : undefined;
            const problem =
              batch !== undefined
                ? (batch ?? (after.usage !== before.usage || after.events !== before.events ? 'recorded something' : null))
                : (refusedCleanly(answer, before, after) ?? namingProblem(op, m, answer));
            if (problem) throw new Error(`${problem}: ${answer.text.slice(0, 300)}`);
          }),
          propertyParams(12),
        );
      } catch (err) {
        failures.push(`${op.method} ${op.path}: ${report(err)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  /** Sends a body no schema describes; for a route that takes none, only "no 5xx, nothing stored" applies. */
  const refusal = async (op: Operation, text: string, contentType: string | null): Promise<string | null> => {
    const before = await storedBefore();
    const answer = await send(app, op.method, op.url, text, headersFor(op, text, contentType));
    const after = (last = await stored());
    // A route that takes no body may ignore one (POST /v1/audit/verifications starts a run; it stores no event).
    const problem = op.schema ? refusedCleanly(answer, before, after) : answer.status >= 500 ? `answered ${answer.status}` : after.events !== before.events ? 'stored an event' : null;
    return problem && `${problem}: ${answer.text.slice(0, 300)}`;
  };
  const validFor = (op: Operation) => (op.path === '/v1/webhooks/payments' ? paymentFailed : op.schema ? sample(op.schema) : {});

  it('refuses a well-formed body sent as anything but JSON, and prototype-poisoning keys, on every write route, storing nothing', async () => {
    const failures: string[] = [];
    for (const op of operations) {
      const valid = JSON.stringify(validFor(op));
      const withKey = (fragment: string) => valid.replace(/^\{/, `{${fragment}${valid === '{}' ? '' : ','}`);
      const cases: [string, string, string | null][] = [
        ...['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', null].map((ct): [string, string, string | null] => [`as ${ct ?? 'no content type'}`, valid, ct]),
        ...['{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"isAdmin":true}}}', withKey('"__proto__":{"role":"admin"}'), withKey('"constructor":{"prototype":{"role":"admin"}}')].map(
          (text): [string, string, string | null] => [`prototype key in ${text.slice(0, 60)}`, text, 'application/json'],
        ),
      ];
      for (const [what, text, contentType] of cases) {
        const problem = await refusal(op, text, contentType);
        if (problem) failures.push(`${op.method} ${op.path} ${what}: ${problem}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses invalid JSON and bodies that are no object on every write route, storing nothing', async () => {
    const failures: string[] = [];
    const hostile = fc.oneof(
      fc.constantFrom('{', '{"a":1,}', "{'a':1}", '{"a":NaN}', '{"a":1}garbage', '\uFEFF{}', '[1,2', '{"a":01}', '{"a":+1}', '{"a":.5}', '{"a":Infinity}', '/*c*/{}', '{"a":"\u0001"}', 'nul', ''),
      fc.constantFrom('null', '[]', '"x"', '1', 'true', '[{}]', '{}'.repeat(2)),
    );
    for (const op of operations) {
      try {
        await fc.assert(
          fc.asyncProperty(hostile, async (text) => {
            const problem = await refusal(op, text, 'application/json');
            if (problem) throw new Error(problem);
          }),
          propertyParams(6),
        );
      } catch (err) {
        failures.push(`${op.method} ${op.path}: ${report(err)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

/** fast-check's report (seed, path, counterexample) and what went wrong, without its hint. */
function report(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  const cause = e.cause instanceof Error ? e.cause.message : '';
  return `${e.message.replace(/\n\nHint:.*$/s, '').slice(0, 1200)}\n  → ${cause.slice(0, 600)}`;
}

/**
 * Refusals the API documents with another answer than 400, by route, field and kind: a Stripe event of
 * a type the ledger does not handle is a well-formed event (422, as the OpenAPI description says).
 */
const DOCUMENTED: Readonly<Record<string, string>> = {
  'POST /v1/webhooks/payments type: not in enum': '422 WEBHOOK.UNSUPPORTED_EVENT',
};

/** Whether the refusal names what is broken: a 400 with the field's path in `errors`, or for a body-wide refusal any 400. */
function namingProblem(op: Operation, m: Mutation, answer: Answer): string | null {
  const documented = DOCUMENTED[`${op.method} ${op.path} ${m.path.join('.')}: ${m.kind}`];
  if (documented !== undefined) return `${answer.status} ${answer.json.code}` === documented ? null : `${m.kind} at ${JSON.stringify(m.path)}: not the documented ${documented}`;
  if (answer.status !== 400) return `${m.kind} at ${JSON.stringify(m.path)} answered ${answer.status}, not 400`;
  const paths: string[] = (answer.json.errors ?? []).map((e: { path: string }) => e.path);
  // Nested too deep: refused for the whole body before anything walks it, or at the field.
  if (m.naming === 'body' && paths.includes('(body)')) return null;
  return namesField(paths, m.path) ? null : `${m.kind} at ${JSON.stringify(m.path)}: the errors name ${JSON.stringify(paths)}`;
}

/**
 * `POST /v1/usage` takes a batch and answers for each event (200, each one accepted, a duplicate or
 * rejected with its errors): a broken event is a rejected result naming the field, nothing recorded.
 */
function usageBatchProblem(m: Mutation, answer: Answer): string | null | undefined {
  if (m.path[0] !== 'events' || m.path.length < 2 || answer.status !== 200) return undefined;
  const result = answer.json?.results?.[0];
  if (answer.json?.accepted !== 0 || result?.status !== 'rejected') return `${m.kind} at ${JSON.stringify(m.path)}: the event was not rejected`;
  const paths: string[] = (result.errors ?? []).map((e: { path: string }) => e.path);
  return namesField(paths, m.path) ? null : `${m.kind} at ${JSON.stringify(m.path)}: the event's errors name ${JSON.stringify(paths)}`;
}
