import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Injectable, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { SqliteEventStore } from '@el/event-store';
import { Clock, Metrics, SystemClock } from '@el/platform';
import { InProcessIntegrationEvents } from '../inprocess/in-process-integration-events';
import type { IncomingMessage } from '../integration-events.port';
import { BusServer, connectBus, type BusSubscription, type BusSubscriptionSource } from './bus.server';
import { INTEGRATION_EVENTS } from './tokens';

const TOPIC = 'test.two-consumers.v1';

@Injectable()
class FirstSubscription implements BusSubscriptionSource {
  subscription(): BusSubscription {
    return { group: 'first' };
  }
}

@Injectable()
class SecondSubscription implements BusSubscriptionSource {
  subscription(): BusSubscription {
    return { group: 'second' };
  }
}

const got: Record<'first' | 'second', string[]> = { first: [], second: [] };

@Controller()
class FirstConsumer {
  @EventPattern(TOPIC, { subscription: FirstSubscription })
  handle(@Payload() m: IncomingMessage): void {
    got.first.push(m.id!);
  }
}

@Controller()
class SecondConsumer {
  @EventPattern(TOPIC, { subscription: SecondSubscription })
  handle(@Payload() m: IncomingMessage): void {
    got.second.push(m.id!);
  }
}

describe('BusServer', () => {
  let dir: string;
  let store: SqliteEventStore;
  let bus: InProcessIntegrationEvents;
  let app: INestApplication;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-bus-server-'));
    store = SqliteEventStore.open({ path: join(dir, 'events.db') });
    bus = new InProcessIntegrationEvents(store);
    const moduleRef = await Test.createTestingModule({
      controllers: [FirstConsumer, SecondConsumer],
      providers: [FirstSubscription, SecondSubscription, BusServer, Metrics, { provide: Clock, useClass: SystemClock }, { provide: INTEGRATION_EVENTS, useValue: bus }],
    }).compile();
    app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    connectBus(app);
    await app.init();
    await app.startAllMicroservices();
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves two handlers of one topic as two consumers, each handler once per message (not the whole chain from the first)', async () => {
    // In-process, publish resolves once every consumer of the topic has handled the messages.
    await bus.publish(TOPIC, [1, 2, 3].map((n) => ({ key: `k${n}`, id: `m${n}`, value: { n } })));
    expect(got.first).toEqual(['m1', 'm2', 'm3']);
    expect(got.second).toEqual(['m1', 'm2', 'm3']);
  });

  it('closed and listening again, serves both handlers again', async () => {
    const server = app.get(BusServer);
    await server.close();
    await new Promise<void>((resolve, reject) => void server.listen((err) => (err ? reject(err) : resolve())));
    await bus.publish(TOPIC, [{ key: 'k4', id: 'm4', value: { n: 4 } }]);
    expect(got.first.at(-1)).toBe('m4');
    expect(got.second.at(-1)).toBe('m4');
    expect(got.first).toHaveLength(4);
    expect(got.second).toHaveLength(4);
  });
});
