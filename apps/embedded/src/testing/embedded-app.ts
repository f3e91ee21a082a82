import { Module, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule, DiscoveryService, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiKeyRole } from '@el/domain';
import { AuditLog, AuditModule, auditConfigSpec, auditErrorTable } from '@el/audit-service';
import { EnforcementModule, enforcementConfigSpec, enforcementErrorTable, EnforcementViewRunner } from '@el/enforcement-service';
import { EVENT_STORE, EventStoreModule, type EventStore } from '@el/event-store';
import { API_KEY_DIRECTORY, IdentityModule, type StoreApiKeys } from '@el/identity';
import { adminKeyFile, LedgerModule, ledgerErrorTable, ledgerServiceConfigSpec } from '@el/ledger-service';
import { MeterFeedCatchUp, MeteringModule, meteringConfigSpec, meteringErrorTable } from '@el/metering-service';
import { busConfig, connectBus, MessagingModule, RelayModule } from '@el/messaging';
import { ACCESS, accessPolicy, Clock, ConsoleModule, configReader, configureHttpApp, fastifyAdapter, PlatformModule, withTimeout, type AccessDeclaration } from '@el/platform';
import { projectorConfigSpec, ProjectorModule, readDbConfig, ReadModelsModule } from '@el/read-models';

const REPO = join(__dirname, '..', '..', '..', '..');

export interface Reply<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Record<string, unknown>;
}

/** A route served by the app, with its access declaration (null: none). */
export interface DeclaredRoute {
  readonly method: string;
  readonly path: string;
  readonly access: AccessDeclaration | null;
}

export interface EmbeddedApp {
  readonly app: NestFastifyApplication;
  readonly store: EventStore;
  readonly admin: Record<string, string>;
  readonly dataDir: string;
  keyFor(role: ApiKeyRole, customers?: readonly string[] | null, name?: string): Promise<Record<string, string>>;
  /** With the admin key unless headers bring an Authorization (empty string: none). */
  http<T = any>(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  /** Every Nest route with its declaration (the raw Fastify check routes are in `fastifyRoutes`). */
  nestRoutes(): DeclaredRoute[];
  /** Every route Fastify serves: `METHOD /path`. */
  readonly fastifyRoutes: readonly string[];
  /** Waits until the enforcement view has read the log up to its head. */
  viewAtHead(): Promise<void>;
  /** Waits until the audit log holds every event up to the store's head. */
  auditAtHead(): Promise<void>;
  /** Stops the app; its data directory is removed unless `keep`. */
  close(keep?: boolean): Promise<void>;
}

/**
 * The embedded composition (ledger, projector, enforcement, identity) in this
 * process on a real SQLite directory, driven through the real HTTP pipeline
 * with Fastify's inject: for tables of requests (routes × roles) that would be
 * slow over a socket.
 */
export interface EmbeddedAppOptions {
  /** The clock of every service in the process (default the system clock): tests move time without sleeping. */
  readonly clock?: Clock;
}

export async function startEmbeddedApp(env: Record<string, string> = {}, existingDataDir?: string, options: EmbeddedAppOptions = {}): Promise<EmbeddedApp> {
  const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), 'el-embedded-'));
  const config = configReader({ ...enforcementConfigSpec, ...ledgerServiceConfigSpec, ...projectorConfigSpec, ...meteringConfigSpec, ...auditConfigSpec })({
    DATA_DIR: dataDir,
    ENFORCEMENT_DATA_DIR: dataDir,
    ENFORCEMENT_SNAPSHOT_INTERVAL_MS: '0',
    CATALOG_PATH: join(REPO, 'catalog', 'sample-catalog.yaml'),
    EXPIRY_SWEEP_INTERVAL_MS: '0',
    ORDER_RECOVERY_INTERVAL_MS: '0',
    USAGE_CLOSE_INTERVAL_MS: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });

  const bus = busConfig(config, 'embedded');

  @Module({
    imports: [
      DiscoveryModule,
      PlatformModule.forRoot({ serviceName: 'embedded-test', logLevel: 'silent', errorTable: { ...ledgerErrorTable, ...enforcementErrorTable, ...meteringErrorTable, ...auditErrorTable }, access: accessPolicy(config) }),
      EventStoreModule.forRoot(config),
      IdentityModule.forRoot(config, { keys: { from: 'store' } }),
      ReadModelsModule.forRoot({ db: readDbConfig(config, dataDir), subscriptionId: config.PROJECTOR_SUBSCRIPTION_ID, queryWaitMs: config.QUERY_WAIT_MS }),
      MessagingModule.forRoot(bus),
      // With Kafka, this process also relays the log to ledger.entitlements.v1 (and ledger.api-keys.v1).
      ...(bus.kind === 'kafka' ? [RelayModule.register({ subscriptionId: config.RELAY_SUBSCRIPTION_ID, maxLagSeconds: config.PROJECTOR_MAX_LAG_SECONDS, batchSize: config.RELAY_BATCH_SIZE, auditTopic: config.AUDIT_TOPIC })] : []),
      LedgerModule.register(config),
      ProjectorModule.register(config),
      EnforcementModule.register(config),
      MeteringModule.register(config, dataDir),
      AuditModule.register(config, { feed: 'event-store', dataDir, serveJwks: false }),
      // The web console's routes, as main.ts mounts them (unbuilt here: its files are not what these tests look at).
      ConsoleModule.register({ dir: null, oidc: null }),
    ],
  })
  class EmbeddedTestModule {}

  const builder = Test.createTestingModule({ imports: [EmbeddedTestModule] });
  if (options.clock) builder.overrideProvider(Clock).useValue(options.clock);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(fastifyAdapter(), { logger: false });
  const fastifyRoutes: string[] = [];
  app.getHttpAdapter().getInstance().addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') fastifyRoutes.push(`${m} ${r.url}`);
  });
  configureHttpApp(app, { title: 'test', description: 'test', version: 'test', ...(config.CORS_ORIGINS ? { corsOrigins: config.CORS_ORIGINS } : {}) });
  connectBus(app);
  try {
    await app.init();
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
    // Usage waits (503 METERING.CATCHING_UP) until the meter feed has read the log up to its head at
    // start: a restarted test process is taken as started once it has, as a client would retry until then.
    const gate = app.get(MeterFeedCatchUp);
    await withTimeout(gate.ready, 30_000).catch((err: Error) => {
      throw new Error(`the meter feed did not catch up (${JSON.stringify(gate.behind)} left): ${err.message}`);
    });
  } catch (err) {
    // A failed boot must not leave consumers or files open behind it (Jest would wait for them forever).
    await app.close().catch(() => undefined);
    if (!existingDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  const store = app.get<EventStore>(EVENT_STORE);
  const keys = app.get<StoreApiKeys>(API_KEY_DIRECTORY);
  const admin = { authorization: `Bearer ${readFileSync(adminKeyFile(config), 'utf8').trim()}` };
  const runner = app.get(EnforcementViewRunner);

  return {
    app,
    store,
    admin,
    dataDir,
    fastifyRoutes,
    async keyFor(role, customers = null, name = `${role} key`) {
      const now = new Date().toISOString();
      const { key } = await keys.create({ name, role, customers }, { now, correlationId: 'test', causationId: 'test', actor: { type: 'system', id: 'test' }, source: 'system' });
      return { authorization: `Bearer ${key}` };
    },
    async http(method, url, body, headers = {}) {
      const credential = 'authorization' in headers ? (headers['authorization'] ? { authorization: headers['authorization'] } : {}) : admin;
      const { authorization: _a, ...rest } = headers;
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...credential, ...rest },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      let parsed: unknown = res.body;
      try {
        parsed = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.statusCode, body: parsed as never, headers: res.headers };
    },
    nestRoutes() {
      const reflector = app.get(Reflector);
      const out: DeclaredRoute[] = [];
      for (const wrapper of app.get(DiscoveryService).getControllers()) {
        const type = wrapper.metatype as (new (...a: never[]) => unknown) | null;
        if (!type || !wrapper.instance) continue;
        const prefix = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
        const proto = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          if (path === undefined) continue;
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number]!;
          const full = `/${[prefix, path].map((p) => p.replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`;
          out.push({ method, path: full, access: reflector.getAllAndOverride<AccessDeclaration | undefined>(ACCESS, [handler as () => void, type]) ?? null });
        }
      }
      return out;
    },
    async viewAtHead() {
      if (!(await runner.view.waitFor(await store.headPosition(), 30_000))) throw new Error('the enforcement view did not reach the head');
    },
    async auditAtHead() {
      const log = app.get(AuditLog);
      if (!(await log.reached(await store.headPosition(), 30_000))) throw new Error(`the audit log stopped at position ${log.lastPosition}`);
    },
    async close(keep = false) {
      await app.close();
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
