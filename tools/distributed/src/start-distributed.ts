/**
 * npm run start:distributed — every service as its own process, as in production,
 * on this machine and without Docker:
 *
 *   Kafka       KAFKA_BROKERS, or a local single-node broker (tools/kafka, Maven Central jars, Java 17)
 *   PostgreSQL  READ_DB_URL, or a local server from the Debian binaries (initdb + pg_ctl)
 *   events      EVENT_STORE=esdb with ESDB_URL, or the SQLite event store shared by path (DATA_DIR)
 *   projector   :PROJECTOR_PORT (8081)   read models in PostgreSQL + relay to ledger.entitlements.v1
 *   ledger      :LEDGER_PORT (8080)      the API + the erp.orders.v1 consumer
 *   enforcement :ENFORCEMENT_PORT (8082) checks from its view of ledger.entitlements.v1 and metering.counters.v1
 *   metering    :METERING_PORT (8083)    usage ingestion into PostgreSQL (database `metering`), counters to metering.counters.v1
 *   audit       :AUDIT_PORT (8084)       the audit log from ledger.audit.v1 into PostgreSQL (database `audit`), signed tree heads
 *   gateway     :GATEWAY_PORT (8000)     one origin for them all, routed by path (gateway.ts): the web console and any client
 *
 * SERVICE_NODE_ARGS passes Node arguments to every service (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 * Service logs (JSON lines) go to stdout; this launcher's own lines to stderr.
 * Ctrl-C stops the services, then the servers it started. Data stays in DATA_DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { ConfigError, env, readConfig, redactCredentials } from '@el/platform';
import { repoRoot, startKafka, startPostgres, type KafkaBroker, type PostgresServer } from '@el/testing';
import { startGateway } from './gateway';

const spec = {
  DATA_DIR: env.string({ default: './data/distributed', description: 'Everything this launcher keeps: the SQLite event store, keys, snapshots, and the local Kafka and PostgreSQL data' }),
  LEDGER_PORT: env.port({ default: 8080, description: 'Port of the ledger service' }),
  PROJECTOR_PORT: env.port({ default: 8081, description: 'Port of the projector (health and metrics)' }),
  ENFORCEMENT_PORT: env.port({ default: 8082, description: 'Port of the enforcement service' }),
  METERING_PORT: env.port({ default: 8083, description: 'Port of the metering service' }),
  AUDIT_PORT: env.port({ default: 8084, description: 'Port of the audit service' }),
  GATEWAY_PORT: env.port({ default: 8000, description: 'Port of the gateway: every service\'s API (and the web console) on one origin, routed by path' }),
  KAFKA_BROKERS: env.string({ default: '', description: 'Use this Kafka instead of starting one' }),
  READ_DB_URL: env.string({ default: '', description: 'Use this PostgreSQL database instead of starting a server' }),
  METERING_DB_URL: env.string({ default: '', description: 'PostgreSQL database of the metering store (default: database `metering` on the local server, or READ_DB_URL when that is given)' }),
  AUDIT_DB_URL: env.string({ default: '', description: 'PostgreSQL database of the audit store (default: database `audit` on the local server, or READ_DB_URL when that is given)' }),
  EVENT_STORE: env.oneOf(['sqlite', 'esdb'] as const, { default: 'sqlite', description: 'sqlite (shared by path) or esdb' }),
  ESDB_URL: env.string({ default: '', description: 'EventStoreDB connection string when EVENT_STORE=esdb' }),
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info', description: 'Log level of every service' }),
  SERVICE_NODE_ARGS: env.string({ default: '', description: 'Extra Node.js arguments for every service process, space-separated (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof, which NODE_OPTIONS does not allow)' }),
};

const ROOT = repoRoot(__dirname);
const say = (line: string) => process.stderr.write(`[distributed] ${line}\n`);

interface Service {
  readonly name: string;
  readonly main: string;
  readonly port: number;
  readonly env: Record<string, string>;
  child?: ChildProcess;
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** As root, PostgreSQL runs as `postgres`, which may not reach DATA_DIR: its data then lives in postgres's home. */
function postgresDir(dataDir: string): string {
  if (process.getuid?.() !== 0) return join(dataDir, 'postgres');
  return `/var/lib/postgresql/entitlement-ledger-${createHash('sha1').update(dataDir).digest('hex').slice(0, 10)}`;
}

async function waitHealthy(service: Service, exited: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`${service.name} exited during start (its log is above)`);
    try {
      const res = await fetch(`http://127.0.0.1:${service.port}/health`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${service.name} not healthy after ${timeoutMs / 1000} s: ${last.slice(0, 500)}`);
}

async function main(): Promise<void> {
  const config = readConfig(spec, process.env);
  if (config.EVENT_STORE === 'esdb' && !config.ESDB_URL) throw new ConfigError([{ variable: 'ESDB_URL', message: 'is required when EVENT_STORE=esdb' }]);
  const dataDir = resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });

  const started: { kafka?: KafkaBroker; postgres?: PostgresServer } = {};
  const services: Service[] = [];
  let stopping = false;

  const stopAll = async (code: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => undefined);
    stopping = true;
    say('stopping the services');
    await Promise.all(
      [...services].reverse().map(
        (s) =>
          new Promise<void>((done) => {
            const c = s.child;
            if (!c || c.exitCode !== null || c.signalCode !== null) return done();
            const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
            c.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    if (started.kafka) {
      say('stopping Kafka');
      await started.kafka.stop().catch((e: unknown) => say(`Kafka: ${(e as Error).message}`));
    }
    if (started.postgres) {
      say('stopping PostgreSQL');
      await started.postgres.stop().catch((e: unknown) => say(`PostgreSQL: ${(e as Error).message}`));
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    let brokers = config.KAFKA_BROKERS;
    if (!brokers) {
      say(`starting Kafka (data in ${join(dataDir, 'kafka')})`);
      started.kafka = await startKafka({ dir: join(dataDir, 'kafka'), keepData: true, partitions: 6, log: say });
      brokers = started.kafka.brokers.join(',');
    }
    let readDbUrl = config.READ_DB_URL;
    if (!readDbUrl) {
      const dir = postgresDir(dataDir);
      say(`starting PostgreSQL (data in ${dir})`);
      started.postgres = await startPostgres({ dir, durable: true });
      readDbUrl = await ensureDatabase(started.postgres.url, 'ledger');
    }
    // The metering store's tables (mt_*) have their own migrations table: a database of their own, or the read models' one.
    const meteringDbUrl = config.METERING_DB_URL || (started.postgres ? await ensureDatabase(started.postgres.url, 'metering') : readDbUrl);
    // The audit store's tables (au_*) likewise.
    const auditDbUrl = config.AUDIT_DB_URL || (started.postgres ? await ensureDatabase(started.postgres.url, 'audit') : readDbUrl);

    const common: Record<string, string> = {
      DATA_DIR: dataDir,
      EVENT_STORE: config.EVENT_STORE,
      ...(config.ESDB_URL ? { ESDB_URL: config.ESDB_URL } : {}),
      READ_DB: 'postgres',
      READ_DB_URL: readDbUrl,
      BUS: 'kafka',
      KAFKA_BROKERS: brokers,
      LOG_LEVEL: config.LOG_LEVEL,
    };
    // The projector first: it runs the migrations and creates the topics the others consume.
    services.push(
      { name: 'projector', main: 'dist/apps/projector/src/main.js', port: config.PROJECTOR_PORT, env: {} },
      { name: 'ledger', main: 'dist/apps/ledger/src/main.js', port: config.LEDGER_PORT, env: {} },
      { name: 'enforcement', main: 'dist/apps/enforcement/src/main.js', port: config.ENFORCEMENT_PORT, env: { ENFORCEMENT_DATA_DIR: join(dataDir, 'enforcement'), ENFORCEMENT_INSTANCE_ID: 'local-1' } },
      { name: 'metering', main: 'dist/apps/metering/src/main.js', port: config.METERING_PORT, env: { METERING_DB: 'postgres', METERING_DB_URL: meteringDbUrl } },
      { name: 'audit', main: 'dist/apps/audit/src/main.js', port: config.AUDIT_PORT, env: { AUDIT_DB: 'postgres', AUDIT_DB_URL: auditDbUrl } },
    );
    const nodeArgs = config.SERVICE_NODE_ARGS.split(' ').filter(Boolean);
    for (const s of services) {
      say(`starting ${s.name} on port ${s.port}`);
      const child = spawn(process.execPath, [...nodeArgs, join(ROOT, s.main)], { cwd: ROOT, env: { ...process.env, ...common, ...s.env, PORT: String(s.port) }, stdio: ['ignore', 'inherit', 'inherit'] });
      s.child = child;
      let gone = false;
      child.once('exit', (code, signal) => {
        gone = true;
        if (!stopping) {
          say(`${s.name} exited (${signal ?? `code ${code}`}): stopping everything`);
          void stopAll(1);
        }
      });
      await waitHealthy(s, () => gone);
    }
    say(`starting the gateway on port ${config.GATEWAY_PORT}`);
    try {
      await startGateway(config.GATEWAY_PORT, { ledger: config.LEDGER_PORT, enforcement: config.ENFORCEMENT_PORT, metering: config.METERING_PORT, audit: config.AUDIT_PORT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`GATEWAY_PORT: port ${config.GATEWAY_PORT} is already in use; choose another with GATEWAY_PORT=...`);
      throw err;
    }
    say(
      [
        'Entitlement Ledger (distributed) is up:',
        `  gateway      http://localhost:${config.GATEWAY_PORT}   (every API below on one origin; web console: http://localhost:${config.GATEWAY_PORT}/console)`,
        `  ledger       http://localhost:${config.LEDGER_PORT}   (API, /docs)`,
        `  projector    http://localhost:${config.PROJECTOR_PORT}   (/health, /metrics)`,
        `  enforcement  http://localhost:${config.ENFORCEMENT_PORT}   (POST /v1/check)`,
        `  metering     http://localhost:${config.METERING_PORT}   (POST /v1/usage)`,
        `  audit        http://localhost:${config.AUDIT_PORT}   (GET /v1/audit/…, /.well-known/jwks.json)`,
        `  Kafka ${brokers}${started.kafka ? ' (local)' : ''} · PostgreSQL ${redactCredentials(readDbUrl)}${started.postgres ? ' (local)' : ''} · events ${config.EVENT_STORE === 'esdb' ? redactCredentials(config.ESDB_URL) : join(dataDir, 'events.db')}`,
        `  admin API key (written by the ledger's first start): ${join(dataDir, 'admin-api-key')}`,
        'Ctrl-C stops everything; data stays in ' + dataDir,
      ].join('\n'),
    );
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    await stopAll(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
  process.exit(1);
});
