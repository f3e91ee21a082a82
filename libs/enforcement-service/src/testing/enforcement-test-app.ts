import { Module, type DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { join } from 'node:path';
import { EVENT_STORE, EventStoreModule, eventStoreConfigSpec, type EventStore } from '@el/event-store';
import { connectBus, MessagingModule, type BusConfig } from '@el/messaging';
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
  post<T = any>(url: string, body: unknown): Promise<{ status: number; body: T }>;
  get<T = any>(url: string): Promise<{ status: number; body: T }>;
  /** Waits until the view's position reaches `position`. */
  until(position: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface EnforcementTestOptions {
  readonly dataDir: string;
  /** In-process (with an event store in `dataDir`) or Kafka. */
  readonly bus: BusConfig;
  readonly topic?: string;
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
  const embedded: DynamicModule[] =
    options.bus.kind === 'inprocess'
      ? [EventStoreModule.forRoot(config), ReadModelsModule.forRoot({ db: readDbConfig(config, options.dataDir), subscriptionId: 'projector', queryWaitMs: 0 })]
      : [];

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'enforcement-test', logLevel: 'silent', errorTable: enforcementErrorTable }),
      ...embedded,
      MessagingModule.forRoot(options.bus),
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
  const request = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const res = await app.inject({ method, url, ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    let parsed: unknown = res.body;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, body: parsed as never };
  };
  return {
    app,
    runner,
    view: () => runner.view,
    store: options.bus.kind === 'inprocess' ? app.get<EventStore>(EVENT_STORE) : null,
    post: (url, body) => request('POST', url, body),
    get: (url) => request('GET', url),
    async until(position, timeoutMs = 60_000) {
      // The view wakes its waiters when a watermark makes the position safe: no polling.
      if (!(await runner.view.waitFor(position, timeoutMs))) throw new Error(`view stuck at ${runner.view.position}, waiting for ${position}`);
    },
    close: () => app.close(),
  };
}
