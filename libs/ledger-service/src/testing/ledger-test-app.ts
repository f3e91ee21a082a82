import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_STORE, EventStoreModule, type EventStore, type RecordedEvent } from '@el/event-store';
import { API_KEY_DIRECTORY, IdentityModule, StoreApiKeys } from '@el/identity';
import type { ApiKeyRole } from '@el/domain';
import { accessPolicy, Clock, configReader, configureHttpApp, fastifyAdapter, PlatformModule } from '@el/platform';
import { adminKeyFile } from '../api-keys/admin-key-bootstrap';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { busConfig, connectBus, MessagingModule, RelayModule } from '@el/messaging';
import { projectorConfigSpec, ProjectorModule, readDbConfig, READ_MODELS, ReadModelsModule } from '@el/read-models';
import type { DataSource } from 'typeorm';
import { ledgerServiceConfigSpec } from '../ledger.config';
import { ledgerErrorTable } from '../ledger.errors';
import { LedgerModule } from '../ledger.module';

const REPO = join(__dirname, '..', '..', '..', '..');

/** A clock tests can move. */
export class TestClock extends Clock {
  constructor(private current = new Date()) {
    super();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advanceDays(days: number): void {
    this.current = new Date(this.current.getTime() + days * 86_400_000);
  }
}

export interface HttpResult<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Record<string, string | string[] | number | undefined>;
}

export interface LedgerTestApp {
  readonly app: NestFastifyApplication;
  readonly store: EventStore;
  readonly readModels: DataSource;
  readonly dataDir: string;
  readonly clock: TestClock;
  /** The Authorization header of the admin key the first start created (sent by `http` unless headers carry their own). */
  readonly admin: Record<string, string>;
  /** A new API key with this role (and customers), as request headers. */
  keyFor(role: ApiKeyRole, customers?: readonly string[] | null, name?: string): Promise<Record<string, string>>;
  http<T = any>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  /** Events appended after `position`, in order. */
  eventsAfter(position: number): Promise<RecordedEvent[]>;
  head(): Promise<number>;
  /** Stops the app; the data directory stays (for restart tests) unless `remove`. */
  close(remove?: boolean): Promise<void>;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly env?: Record<string, string>;
  readonly now?: string;
}

/**
 * The ledger as `npm start` composes it, on a real SQLite file in a temp
 * directory, driven through the real HTTP pipeline (routing, validation,
 * error filter) with Fastify's inject — no socket needed.
 */
export async function startLedgerApp(options: StartOptions = {}): Promise<LedgerTestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'el-ledger-'));
  const config = configReader({ ...ledgerServiceConfigSpec, ...projectorConfigSpec })({
    DATA_DIR: dataDir,
    CATALOG_PATH: join(REPO, 'catalog', 'sample-catalog.yaml'),
    LOG_LEVEL: 'silent',
    EXPIRY_SWEEP_INTERVAL_MS: '0',
    ORDER_RECOVERY_INTERVAL_MS: '0',
    PAYMENT_DUNNING_SWEEP_INTERVAL_MS: '0',
    ...options.env,
  });
  const clock = new TestClock(options.now ? new Date(options.now) : new Date());
  const bus = busConfig(config, 'ledger');

  // The embedded composition: event store, read models with their projector, the ledger.
  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'ledger-test', logLevel: 'silent', errorTable: ledgerErrorTable, access: accessPolicy(config) }),
      EventStoreModule.forRoot(config),
      IdentityModule.forRoot(config, { keys: { from: 'store' } }),
      ReadModelsModule.forRoot({ db: readDbConfig(config, dataDir), subscriptionId: config.PROJECTOR_SUBSCRIPTION_ID, queryWaitMs: config.QUERY_WAIT_MS }),
      MessagingModule.forRoot(bus),
      LedgerModule.register(config),
      ProjectorModule.register(config),
      ...(bus.kind === 'kafka' ? [RelayModule.register({ subscriptionId: config.RELAY_SUBSCRIPTION_ID, maxLagSeconds: config.PROJECTOR_MAX_LAG_SECONDS, batchSize: config.RELAY_BATCH_SIZE, auditTopic: config.AUDIT_TOPIC })] : []),
    ],
  })
  class TestRoot {}

  const moduleRef = await Test.createTestingModule({ imports: [TestRoot] }).overrideProvider(Clock).useValue(clock).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(fastifyAdapter(), { logger: false });
  configureHttpApp(app, { title: 'test', description: 'test', version: 'test' });
  connectBus(app);
  try {
    await app.init();
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
  } catch (err) {
    // A failed boot must not leave subscriptions or files open behind it.
    await app.close().catch(() => undefined);
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const store = app.get<EventStore>(EVENT_STORE);
  const keys = app.get<StoreApiKeys>(API_KEY_DIRECTORY);
  let admin: Record<string, string> = {};
  try {
    admin = { authorization: `Bearer ${readFileSync(adminKeyFile(config), 'utf8').trim()}` };
  } catch {
    /* a restart on a data directory whose first start wrote the key elsewhere */
  }

  return {
    app,
    store,
    readModels: app.get<DataSource>(READ_MODELS),
    dataDir,
    clock,
    admin,
    async keyFor(role, customers = null, name = `${role} key`) {
      const { key } = await keys.create({ name, role, customers }, commandMetadata(systemContext('test', 'test'), clock));
      return { authorization: `Bearer ${key}` };
    },
    async http(method, url, body, headers = {}) {
      // The admin key unless the caller brings a credential (or `authorization: ''` for none).
      const credential = 'authorization' in headers ? (headers['authorization'] ? { authorization: headers['authorization'] } : {}) : admin;
      const { authorization: _a, ...rest } = headers;
      const res = await app.inject({
        method,
        url,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...credential, ...rest },
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = res.body;
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON (metrics, docs) */
      }
      return { status: res.statusCode, body: parsed as never, headers: res.headers };
    },
    async eventsAfter(position) {
      const out: RecordedEvent[] = [];
      for (let after = position; ; ) {
        const page = await store.readAll({ after, maxCount: 1000 });
        if (page.length === 0) return out;
        out.push(...page);
        after = page[page.length - 1]!.position;
      }
    },
    head: () => store.headPosition(),
    async close(remove = false) {
      await app.close();
      if (remove) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The credential the entitlement specs act with: the test app's default (the first-start admin key). */
export const OPERATOR: Record<string, string> = {};

/** Grants `sku` to customer acme by hand and returns the entitlement id (fails the test if the grant is refused). */
export async function grantAsOperator(t: LedgerTestApp, sku = 'ANL-PRO', quantity = 3, headers: Record<string, string> = OPERATOR): Promise<string> {
  const res = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku, quantity }, headers);
  if (res.status !== 201) throw new Error(`grant of ${sku} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.entitlementId as string;
}

/** The principal id (`key:<keyId>`) of an API key's request headers: what events record as the actor. */
export function principalIdOf(headers: Record<string, string>): string {
  const m = /elk_([0-9a-f]{16})_/.exec(headers['authorization'] ?? '');
  if (!m) throw new Error('no API key in these headers');
  return `key:${m[1]}`;
}
