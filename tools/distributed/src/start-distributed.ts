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
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, env, readConfig, redactCredentials } from '@el/platform';
import { startGateway } from './gateway';
import { LocalStack } from './stack';

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

const say = (line: string) => process.stderr.write(`[distributed] ${line}\n`);

async function main(): Promise<void> {
  const config = readConfig(spec, process.env);
  if (config.EVENT_STORE === 'esdb' && !config.ESDB_URL) throw new ConfigError([{ variable: 'ESDB_URL', message: 'is required when EVENT_STORE=esdb' }]);
  const dataDir = resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });

  let stopping = false;
  const stack = new LocalStack({
    dataDir,
    ports: { projector: config.PROJECTOR_PORT, ledger: config.LEDGER_PORT, enforcement: config.ENFORCEMENT_PORT, metering: config.METERING_PORT, audit: config.AUDIT_PORT },
    ...(config.KAFKA_BROKERS ? { kafkaBrokers: config.KAFKA_BROKERS } : {}),
    ...(config.READ_DB_URL ? { readDbUrl: config.READ_DB_URL } : {}),
    ...(config.METERING_DB_URL ? { meteringDbUrl: config.METERING_DB_URL } : {}),
    ...(config.AUDIT_DB_URL ? { auditDbUrl: config.AUDIT_DB_URL } : {}),
    eventStore: config.EVENT_STORE,
    ...(config.ESDB_URL ? { esdbUrl: config.ESDB_URL } : {}),
    logLevel: config.LOG_LEVEL,
    nodeArgs: config.SERVICE_NODE_ARGS.split(' ').filter(Boolean),
    say,
    onUnexpectedExit: (name, how) => {
      if (stopping) return;
      say(`${name} exited (${how}): stopping everything`);
      void stopAll(1);
    },
  });

  const stopAll = async (code: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => undefined);
    stopping = true;
    say('stopping the services');
    await stack.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    await stack.start();
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
        `  Kafka ${stack.brokers}${stack.ownsKafka ? ' (local)' : ''} · PostgreSQL ${redactCredentials(stack.readDbUrl)}${stack.ownsPostgres ? ' (local)' : ''} · events ${config.EVENT_STORE === 'esdb' ? redactCredentials(config.ESDB_URL) : join(dataDir, 'events.db')}`,
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
