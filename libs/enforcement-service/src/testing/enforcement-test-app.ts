import { Module, type DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { join } from 'node:path';
import { EVENT_STORE, EventStoreModule, eventStoreConfigSpec, type EventStore } from '@el/event-store';
import { apiKeyMessageV1 } from '@el/contracts';
import type { ApiKeyRole } from '@el/domain';
import { API_KEY_DIRECTORY, identityConfigSpec, IdentityModule, newApiKey, StoreApiKeys, type ApiKeyDirectory } from '@el/identity';
import { connectBus, INTEGRATION_EVENTS, MessagingModule, type BusConfig, type IntegrationEvents } from '@el/messaging';
import { until } from '@el/testing';
import { configReader, configureHttpApp, fastifyAdapter, PlatformModule } from '@el/platform';
import { readDbConfig, ReadModelsModule, readModelsConfigSpec } from '@el/read-models';
import { enforcementConfigSpec } from '../enforcement.config';
import { EnforcementModule } from '../enforcement.module';
import { enforcementErrorTable } from '../enforcement.errors';
import { checkApiOpenApiPaths } from '../check/check.routes';
import { EnforcementViewRunner } from '../view/view-runner';
import type { EnforcementView } from '../view/enforcement-view';

const REPO = join(__dirname, '..', '..', '..', '..');

export interface EnforcementTestApp {
  readonly app: NestFastifyApplication;
  readonly view: () => EnforcementView;
  readonly runner: EnforcementViewRunner;
  /** The embedded event store (in-process bus only). */
  readonly store: EventStore | null;
  /** Requests carry the test's admin key unless `headers` bring their own Authorization (empty: none). */
  post<T = any>(url: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Record<string, unknown> }>;
  get<T = any>(url: string, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Record<string, unknown> }>;
  /** A new API key with this role (and customers), as request headers; known to the service when this resolves. */
  keyFor(role: ApiKeyRole, customers?: readonly string[] | null): Promise<Record<string, string>>;
  /** Waits until the view's position reaches `position`. */
  until(position: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface EnforcementTestOptions {
  readonly dataDir: string;
  /** In-process (with an event store in `dataDir`) or Kafka. */
  readonly bus: BusConfig;
  readonly topic?: string;
  /** Kafka only: where API keys are read (default: `<topic>.api-keys`, so parallel tests do not share keys). */
  readonly apiKeysTopic?: string;
  readonly env?: Record<string, string>;
}

/**
 * The enforcement service through its real HTTP pipeline (Fastify inject).
 * In-process it also runs the embedded event store and read models it needs;
 * with Kafka it is the service alone, as `apps/enforcement` runs it.
 */
export async function startEnforcementApp(options: EnforcementTestOptions): Promise<EnforcementTestApp> {
  const config = configReader({ ...enforcementConfigSpec, ...eventStoreConfigSpec, ...readModelsConfigSpec })({
    DATA_DIR: options.dataDir,
    ENFORCEMENT_DATA_DIR: options.dataDir,
    CATALOG_PATH: join(REPO, 'catalog', 'sample-catalog.yaml'),
    ENFORCEMENT_SNAPSHOT_INTERVAL_MS: '0',
    ENFORCEMENT_INSTANCE_ID: `test-${Math.random().toString(36).slice(2)}`,
    ...options.env,
  });
  const identity = configReader(identityConfigSpec)({ API_KEY_REFRESH_MS: '100', ...options.env });
  const apiKeysTopic = options.apiKeysTopic ?? `${options.topic ?? 'ledger.entitlements.v1'}.api-keys`;
  const embedded: DynamicModule[] =
    options.bus.kind === 'inprocess'
      ? [EventStoreModule.forRoot(config), ReadModelsModule.forRoot({ db: readDbConfig(config, options.dataDir), subscriptionId: 'projector', queryWaitMs: 0 })]
      : [];

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'enforcement-test', logLevel: 'silent', errorTable: enforcementErrorTable }),
      ...embedded,
      MessagingModule.forRoot(options.bus),
      IdentityModule.forRoot(identity, { keys: options.bus.kind === 'inprocess' ? { from: 'store' } : { from: 'topic', group: `${config.ENFORCEMENT_INSTANCE_ID}-keys`, topic: apiKeysTopic } }),
      EnforcementModule.register(config, options.topic ? { topic: options.topic } : {}),
    ],
  })
  class TestRoot {}

  const moduleRef = await Test.createTestingModule({ imports: [TestRoot] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(fastifyAdapter(), { logger: false });
  configureHttpApp(app, { title: 'test', description: 'test', version: 'test', extraPaths: checkApiOpenApiPaths });
  connectBus(app);
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  const runner = app.get(EnforcementViewRunner);
  const directory = app.get<ApiKeyDirectory>(API_KEY_DIRECTORY);
  const keyFor = async (role: ApiKeyRole, customers: readonly string[] | null = null): Promise<Record<string, string>> => {
    if (directory instanceof StoreApiKeys) {
      const { key } = await directory.create({ name: `${role} key`, role, customers }, { now: new Date().toISOString(), correlationId: 'test', causationId: 'test', actor: { type: 'system', id: 'test' }, source: 'system' });
      // The key is an event in the log: let the view pass it, so positions and lag stay what the test expects.
      await runner.view.waitFor(await app.get<EventStore>(EVENT_STORE).headPosition(), 30_000);
      return { authorization: `Bearer ${key}` };
    }
    // On Kafka the key arrives as the relay would publish it.
    const made = newApiKey();
    const value = { type: 'created' as const, keyId: made.keyId, name: `${role} key`, role, customers, secretSha256: made.secretSha256, createdAt: new Date().toISOString(), createdBy: 'test', position: 0 };
    await app.get<IntegrationEvents>(INTEGRATION_EVENTS).publish(apiKeysTopic, [apiKeyMessageV1(`key-${made.keyId}`, value)]);
    await until(`API key ${made.keyId} known`, () => directory.get(made.keyId) !== undefined, { timeoutMs: 30_000, intervalMs: 20 });
    return { authorization: `Bearer ${made.key}` };
  };
  const admin = await keyFor('admin');
  const request = async (method: 'GET' | 'POST', url: string, body?: unknown, given: Record<string, string> = {}) => {
    const credential = 'authorization' in given ? (given['authorization'] ? { authorization: given['authorization'] } : {}) : admin;
    const { authorization: _a, ...rest } = given;
    const headers = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...credential, ...rest };
    const res = await app.inject({ method, url, headers, ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    let parsed: unknown = res.body;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, body: parsed as never, headers: res.headers };
  };
  return {
    app,
    runner,
    view: () => runner.view,
    store: options.bus.kind === 'inprocess' ? app.get<EventStore>(EVENT_STORE) : null,
    post: (url, body, headers) => request('POST', url, body, headers),
    get: (url, headers) => request('GET', url, undefined, headers),
    keyFor,
    async until(position, timeoutMs = 60_000) {
      // The view wakes its waiters when a watermark makes the position safe: no polling.
      if (!(await runner.view.waitFor(position, timeoutMs))) throw new Error(`view stuck at ${runner.view.position}, waiting for ${position}`);
    },
    close: () => app.close(),
  };
}
