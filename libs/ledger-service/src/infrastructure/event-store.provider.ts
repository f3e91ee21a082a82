import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SqliteEventStore, type EventStore } from '@el/event-store';
import { HealthRegistry, Metrics } from '@el/platform';
import { join, resolve } from 'node:path';
import type { LedgerConfig } from '../ledger.config';

export const EVENT_STORE = Symbol('EVENT_STORE');
export const LEDGER_CONFIG = Symbol('LEDGER_CONFIG');
export const InjectEventStore = () => Inject(EVENT_STORE);

export function openEventStore(config: LedgerConfig, metrics: Metrics, health: HealthRegistry): SqliteEventStore {
  const commits = metrics.histogram('eventstore_commit_duration_seconds', 'Duration of one group commit (fsync included)', [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]);
  const appends = metrics.histogram('eventstore_appends_per_commit', 'Appends committed together (group commit)', [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
  const events = metrics.counter('eventstore_events_appended_total', 'Events appended');
  const path = join(resolve(config.DATA_DIR), 'events.db');
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
  metrics.gauge('eventstore_head_position', 'Position of the newest event in the store', [], (g) => {
    void store.headPosition().then((p) => g.set(p));
  });
  health.register('eventStore', async () => ({ status: 'up', adapter: 'sqlite', path, head: await store.headPosition(), ...store.settings() }));
  return store;
}

/** Closes the store after the HTTP server has stopped taking requests. */
@Injectable()
export class EventStoreLifecycle implements OnApplicationShutdown {
  constructor(@InjectEventStore() private readonly store: EventStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
