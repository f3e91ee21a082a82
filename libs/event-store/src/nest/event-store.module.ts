import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { join, resolve } from 'node:path';
import { ConfigError, ConfigProblems, env, HealthRegistry, Metrics, readCertificateFile, redactCredentials, secretFrom, secretVariables, type ConfigOf } from '@el/platform';
import { upcastEvent } from '@el/domain';
import type { EventStore } from '../event-store.port';
import { UpcastingEventStore } from '../upcasting-event-store';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';
import { EsdbEventStore } from '../esdb/esdb-event-store';

export const eventStoreConfigSpec = {
  EVENT_STORE: env.oneOf(['sqlite', 'esdb'] as const, { default: 'sqlite', description: 'Event store adapter: sqlite (embedded file under DATA_DIR) or esdb (EventStoreDB, distributed)' }),
  ESDB_URL: env.string({ default: '', description: 'EventStoreDB connection string; required when EVENT_STORE=esdb (e.g. esdb://ledger@es1:2113,es2:2113?tls=true, or esdb://localhost:2113?tls=false for an insecure dev server)' }),
  ESDB_TLS_CA_FILE: env.string({ description: 'PEM CA certificate that verifies EventStoreDB (tls=true; default: the system CAs); passed to the client as tlsCAFile' }),
  ...secretVariables('ESDB_PASSWORD', { description: 'Password of the ESDB_URL user, when the URL holds none' }),
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

/** For boot messages and /health: the SQLite file, or the EventStoreDB connection string without credentials. */
export function describeEventStore(config: Pick<EventStoreConfig, 'DATA_DIR' | 'EVENT_STORE' | 'ESDB_URL'>): string {
  return config.EVENT_STORE === 'esdb' ? `esdb ${redactCredentials(config.ESDB_URL)}` : `sqlite ${eventStorePath(config)}`;
}

type EsdbConfig = Pick<EventStoreConfig, 'EVENT_STORE' | 'ESDB_URL' | 'ESDB_TLS_CA_FILE' | 'ESDB_PASSWORD' | 'ESDB_PASSWORD_FILE'>;

/**
 * The connection string the client gets: ESDB_URL with the password from
 * ESDB_PASSWORD(_FILE) and the CA from ESDB_TLS_CA_FILE (as tlsCAFile) put in.
 * Checked here, each problem naming its variable: the client itself would
 * take `tls` as true when it is missing, ignore tlsVerifyCert=false with a
 * warning, and send credentials over a connection without TLS.
 */
export function esdbConnectionString(config: EsdbConfig): string {
  if (!config.ESDB_URL) throw new ConfigError([{ variable: 'ESDB_URL', message: 'is required when EVENT_STORE=esdb (e.g. esdb://localhost:2113?tls=false)' }]);
  const m = /^(esdb(?:\+discover)?:\/\/)(?:([^:@/?\s]+)(?::([^@/?\s]*))?@)?([^/?\s@]+)\/?(?:\?(.*))?$/.exec(config.ESDB_URL);
  if (!m) {
    throw new ConfigError([{ variable: 'ESDB_URL', message: `must be an EventStoreDB connection string like esdb://host:2113?tls=false (got "${redactCredentials(config.ESDB_URL)}")` }]);
  }
  const [, scheme, user, urlPassword, hosts, query = ''] = m as unknown as [string, string, string | undefined, string | undefined, string, string | undefined];
  // Keys as the client reads them: case, '-' and '_' do not matter (tls_ca_file is tlsCAFile).
  const params = new Map(
    query
      .split('&')
      .filter(Boolean)
      .map((kv) => {
        const eq = kv.indexOf('=');
        const key = (eq < 0 ? kv : kv.slice(0, eq)).toLowerCase().replace(/[_-]/g, '');
        return [key, eq < 0 ? '' : kv.slice(eq + 1)] as const;
      }),
  );
  const problems = new ConfigProblems();
  const tlsParam = params.get('tls');
  if (tlsParam !== undefined && tlsParam !== 'true' && tlsParam !== 'false') problems.add('ESDB_URL', `tls must be true or false (got "${tlsParam}")`);
  const tls = tlsParam !== 'false'; // the client's default is TLS
  if (params.get('tlsverifycert') === 'false') problems.add('ESDB_URL', 'tlsVerifyCert=false has no effect with this client (it verifies anyway): give the CA that issued the server\'s certificate in ESDB_TLS_CA_FILE');
  const password = problems.check(() => secretFrom(config, 'ESDB_PASSWORD'));
  if (password && urlPassword !== undefined) problems.add('ESDB_URL', `holds a password and ${password.variable} is set: keep the password in one place (the secret)`);
  if (password && !user) problems.add('ESDB_URL', `names no user for the password in ${password.variable} (esdb://USER@host:2113?tls=true)`);
  if (user && urlPassword === undefined && !password) problems.add('ESDB_PASSWORD_FILE', `(or ESDB_PASSWORD) is required: ESDB_URL names user "${user}" without a password`);
  if (!tls && (password || urlPassword !== undefined)) problems.add('ESDB_URL', 'sends credentials with tls=false, in clear text (and an insecure EventStoreDB ignores them): use tls=true');
  let caParam = '';
  if (config.ESDB_TLS_CA_FILE) {
    if (!tls) problems.add('ESDB_TLS_CA_FILE', 'is set but ESDB_URL has tls=false');
    else if (params.has('tlscafile')) problems.add('ESDB_TLS_CA_FILE', 'is set and ESDB_URL has tlsCAFile too: give the CA in one place');
    else if (problems.check(() => readCertificateFile('ESDB_TLS_CA_FILE', config.ESDB_TLS_CA_FILE!)) !== undefined) caParam = `tlsCAFile=${encodeURIComponent(resolve(config.ESDB_TLS_CA_FILE))}`;
  }
  problems.throwIfAny();
  const credentials = user ? `${user}:${password ? encodeURIComponent(password.value.reveal()) : urlPassword}@` : '';
  const allParams = [query, caParam].filter(Boolean).join('&');
  return `${scheme}${credentials}${hosts}${allParams ? `?${allParams}` : ''}`;
}

/** Stops the boot with a message naming the variable when EVENT_STORE=esdb has no usable connection settings. */
export function checkEventStoreConfig(config: EsdbConfig): void {
  if (config.EVENT_STORE === 'esdb') esdbConnectionString(config);
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
  if (config.EVENT_STORE === 'esdb') return upcasting(new EsdbEventStore({ url: esdbConnectionString(config), idempotencyWindow: config.ESDB_IDEMPOTENCY_WINDOW, ...(onRetry ? { onRetry } : {}) }));
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
