import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { join, resolve } from 'node:path';
import { env, HealthRegistry, Metrics, type ConfigOf } from '@el/platform';
import type { EventStore } from '../event-store.port';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';

export const eventStoreConfigSpec = {
  DATA_DIR: env.string({ default: './data', description: 'Directory of the embedded SQLite event store (events.db); every process of one installation points at the same one' }),
  SQLITE_SYNCHRONOUS: env.oneOf(['FULL', 'NORMAL'] as const, { default: 'FULL', description: 'FULL fsyncs every commit (durable on power loss); NORMAL may lose the last commits on power loss' }),
  SQLITE_WRITER: env.oneOf(['inline', 'worker'] as const, { default: 'inline', description: 'inline commits on the event loop; worker commits on a writer thread (frees the event loop during fsync, adds a thread hop per batch)' }),
};
export type EventStoreConfig = ConfigOf<typeof eventStoreConfigSpec>;

export const EVENT_STORE = Symbol('EVENT_STORE');
export const InjectEventStore = () => Inject(EVENT_STORE);

export function eventStorePath(config: Pick<EventStoreConfig, 'DATA_DIR'>): string {
  return join(resolve(config.DATA_DIR), 'events.db');
}

function openInstrumented(config: EventStoreConfig, metrics: Metrics, health: HealthRegistry): SqliteEventStore {
  const commits = metrics.histogram('eventstore_commit_duration_seconds', 'Duration of one group commit (fsync included)', [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]);
  const appends = metrics.histogram('eventstore_appends_per_commit', 'Appends committed together (group commit)', [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
  const events = metrics.counter('eventstore_events_appended_total', 'Events appended by this process');
  const path = eventStorePath(config);
  const store = SqliteEventStore.open({
    path,
    synchronous: config.SQLITE_SYNCHRONOUS,
    writer: config.SQLITE_WRITER,
    onFlush: (f) => {
      commits.observe(f.durationMs / 1000);
      appends.observe(f.appends);
      events.inc(f.events);
    },
  });
  metrics.gauge('eventstore_head_position', 'Position of the newest event in the store', [], (g) => store.headPosition().then((p) => g.set(p)));
  health.register('eventStore', async () => {
    const failure = store.writeFailure();
    return { status: failure ? 'down' : 'up', adapter: 'sqlite', path, head: await store.headPosition(), ...store.settings(), ...(failure ? { error: failure } : {}) };
  });
  return store;
}

/** Closes the store last, after every subscription and request has finished. */
@Injectable()
class EventStoreLifecycle implements OnApplicationShutdown {
  constructor(@InjectEventStore() private readonly store: EventStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** One event store per process, shared by every service module in it. Requires PlatformModule. */
@Global()
@Module({})
export class EventStoreModule {
  static forRoot(config: EventStoreConfig): DynamicModule {
    return {
      module: EventStoreModule,
      providers: [{ provide: EVENT_STORE, inject: [Metrics, HealthRegistry], useFactory: (m: Metrics, h: HealthRegistry) => openInstrumented(config, m, h) }, EventStoreLifecycle],
      exports: [EVENT_STORE],
    };
  }
}
