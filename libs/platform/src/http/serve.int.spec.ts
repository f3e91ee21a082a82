import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { freePort } from '@el/testing';
import { HealthRegistry } from '../observability/health';
import { PlatformModule } from '../observability/observability.module';
import { createHttpApp } from './bootstrap';
import { listen } from './serve';

/** A boot hook that holds the boot until the test lets it go (what a long catch-up does), and reports its progress meanwhile. */
let release!: () => void;
const gate = new Promise<void>((r) => (release = r));

@Injectable()
class SlowCatchUp implements OnApplicationBootstrap {
  private done = false;
  constructor(health: HealthRegistry) {
    health.register('catchUp', () => (this.done ? { status: 'up' } : { status: 'down', reason: 'replaying', position: 40, head: 100 }));
  }
  async onApplicationBootstrap(): Promise<void> {
    await gate;
    this.done = true;
  }
}

@Module({ imports: [PlatformModule.forRoot({ serviceName: 'boot-test', logLevel: 'silent', errorTable: {} })], providers: [SlowCatchUp] })
class BootTestModule {}

describe('a service answers while it boots (listen)', () => {
  let app: NestFastifyApplication;
  let port: number;
  let listening: Promise<void>;

  beforeAll(async () => {
    port = await freePort();
    app = await createHttpApp(BootTestModule, { title: 'boot test', description: 'boot test', version: '0' });
    listening = listen(app, port, '127.0.0.1', 'boot test is up');
  });

  afterAll(async () => {
    release();
    await listening.catch(() => undefined);
    await app.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
  };

  it('says it is alive, not ready (with the progress of what it waits for), and refuses other requests with a code, until its boot hooks are done', async () => {
    // The port answers before the boot hooks are done.
    let live: Awaited<ReturnType<typeof get>> | null = null;
    for (let i = 0; i < 100 && !live; i++) live = await get('/health/live').catch(async () => (await new Promise((r) => setTimeout(r, 50)), null));
    expect(live).toMatchObject({ status: 200, body: { status: 'live', starting: true } });
    const health = await get('/health');
    expect(health).toMatchObject({ status: 503, retryAfter: '1', body: { status: 'starting', components: { catchUp: { status: 'down', reason: 'replaying', position: 40, head: 100 } } } });
    expect(health.body['startingForSeconds']).toEqual(expect.any(Number));
    expect(await get('/v1/anything')).toMatchObject({ status: 503, retryAfter: '1', body: { statusCode: 503, code: 'SERVICE.STARTING', message: expect.stringContaining('starting'), details: { retryAfterSeconds: 1 } } });

    release();
    await listening;
    // Then the app itself: ready, and its own routes (an unknown one is its 404, not 503).
    expect(await get('/health')).toMatchObject({ status: 200, body: { status: 'ok', components: { catchUp: { status: 'up' } } } });
    expect((await get('/health/live')).body).toEqual({ status: 'live', uptimeSeconds: expect.any(Number) });
    expect((await get('/v1/anything')).status).toBe(404);
  });
});
