import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { join, resolve } from 'node:path';
import { ConfigError, env, HealthRegistry, Metrics, type ConfigOf } from '@el/platform';
import { upcastEvent } from '@el/domain';
import type { EventStore } from '../event-store.port';
import { UpcastingEventStore } from '../upcasting-event-store';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';
import { EsdbEventStore } from '../esdb/esdb-event-store';

export const eventStoreConfigSpec = {
  EVENT_STORE: env.oneOf(['sqlite', 'esdb'] as const, { default: 'sqlite', description: 'Event store adapter: sqlite (embedded file under DATA_DIR) or esdb (EventStoreDB, distributed)' }),
  ESDB_URL: env.string({ default: '', description: 'EventStoreDB connection string; required when EVENT_STORE=esdb (e.g. esdb://localhost:2113?tls=false)' }),
  ESDB_IDEMPOTENCY_WINDOW: env.int({ default: 200, min: 1, max: 100_000, description: 'Newest events of a stream an EventStoreDB append looks through for its event ids (idempotent retries)' }),
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

/** For boot messages: the SQLite file, or the EventStoreDB URL without credentials. */
export function describeEventStore(config: Pick<EventStoreConfig, 'DATA_DIR' | 'EVENT_STORE' | 'ESDB_URL'>): string {
  return config.EVENT_STORE === 'esdb' ? `esdb ${config.ESDB_URL.replace(/\/\/[^@/]*@/, '//***@')}` : `sqlite ${eventStorePath(config)}`;
}

/** Stops the boot with a message naming the variable when EVENT_STORE=esdb has no usable ESDB_URL. */
export function checkEventStoreConfig(config: Pick<EventStoreConfig, 'EVENT_STORE' | 'ESDB_URL'>): void {
  if (config.EVENT_STORE !== 'esdb') return;
  if (!config.ESDB_URL) throw new ConfigError([{ variable: 'ESDB_URL', message: 'is required when EVENT_STORE=esdb (e.g. esdb://localhost:2113?tls=false)' }]);
  if (!/^esdb(\+discover)?:\/\/[^/\s]+/.test(config.ESDB_URL)) {
    throw new ConfigError([{ variable: 'ESDB_URL', message: `must be an EventStoreDB connection string like esdb://host:2113?tls=false (got "${config.ESDB_URL}")` }]);
  }
}

/**
 * What every process reads events through: the adapter, behind the domain's
 * upcasters — the one place where old event shapes become current ones.
 */
export function upcasting(store: EventStore): EventStore {
  return new UpcastingEventStore(store, upcastEvent);
}

/** The configured adapter without NestJS (CLIs such as `npm run rebuild`). */
export function openEventStore(config: EventStoreConfig, onRetry?: (what: string, attempt: number, error: unknown) => void): EventStore {
  checkEventStoreConfig(config);
  if (config.EVENT_STORE === 'esdb') return upcasting(new EsdbEventStore({ url: config.ESDB_URL, idempotencyWindow: config.ESDB_IDEMPOTENCY_WINDOW, ...(onRetry ? { onRetry } : {}) }));
  return upcasting(SqliteEventStore.open({ path: eventStorePath(config), synchronous: config.SQLITE_SYNCHRONOUS, writer: config.SQLITE_WRITER }));
}

function openEsdb(config: EventStoreConfig, metrics: Metrics, health: HealthRegistry): EventStore {
  const logger = new Logger('event-store');
  const retries = metrics.counter('eventstore_retries_total', 'EventStoreDB calls retried after UNAVAILABLE', ['call']);
  const store = openEventStore(config, (what, attempt, error) => {
    retries.inc({ call: what.split(' ')[0]! });
    logger.warn({ call: what, attempt, err: (error as Error).message }, 'EventStoreDB unavailable, retrying');
  });
  const url = describeEventStore(config).slice('esdb '.length);
  metrics.gauge('eventstore_head_position', 'Position of the newest event in the store', [], (g) => store.headPosition().then((p) => g.set(p)));
  health.register('eventStore', async () => {
    try {
      return { status: 'up', adapter: 'esdb', url, head: await store.headPosition() };
    } catch (err) {
      return { status: 'down', adapter: 'esdb', url, error: (err as Error).message };
    }
  });
  return store;
}

function openInstrumented(config: EventStoreConfig, metrics: Metrics, health: HealthRegistry): EventStore {
  if (config.EVENT_STORE === 'esdb') return openEsdb(config, metrics, health);
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
  return upcasting(store);
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
    checkEventStoreConfig(config);
    return {
      module: EventStoreModule,
      providers: [{ provide: EVENT_STORE, inject: [Metrics, HealthRegistry], useFactory: (m: Metrics, h: HealthRegistry) => openInstrumented(config, m, h) }, EventStoreLifecycle],
      exports: [EVENT_STORE],
    };
  }
}
