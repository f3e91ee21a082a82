import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@el/testing';

const ROOT = repoRoot(__dirname);

/** Runs a built service entry point with `env` and returns how it ended. */
function boot(app: string, env: Record<string, string>): { code: number | null; output: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'el-config-'));
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Each service reads one typed configuration that selects its adapters; a missing or wrong value
// stops it at boot, before it touches anything, with a message naming the variable.
describe('per-service configuration at boot', () => {
  it.each([
    ['ledger', { EVENT_STORE: 'mongo' }, 'EVENT_STORE: must be one of sqlite, esdb (got "mongo")'],
    ['ledger', { EVENT_STORE: 'esdb' }, 'ESDB_URL: is required when EVENT_STORE=esdb'],
    ['ledger', { EVENT_STORE: 'esdb', ESDB_URL: 'http://localhost:2113' }, 'ESDB_URL: must be an EventStoreDB connection string like esdb://host:2113?tls=false (got "http://localhost:2113")'],
    ['ledger', { READ_DB: 'postgres' }, 'READ_DB_URL: is required when READ_DB=postgres'],
    ['ledger', { BUS: 'kafka' }, 'KAFKA_BROKERS: is required when BUS=kafka'],
    ['ledger', { BUS: 'rabbit' }, 'BUS: must be one of inprocess, kafka (got "rabbit")'],
    ['projector', { EVENT_STORE: 'esdb' }, 'ESDB_URL: is required when EVENT_STORE=esdb'],
    ['projector', { READ_DB: 'mysql' }, 'READ_DB: must be one of sqlite, postgres (got "mysql")'],
    ['projector', { PORT: 'eighty' }, 'PORT: must be an integer from 1 to 65535 (got "eighty")'],
    ['enforcement', {}, 'BUS: must be kafka for the enforcement service on its own'],
    ['enforcement', { BUS: 'kafka' }, 'KAFKA_BROKERS: is required when BUS=kafka'],
    ['enforcement', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', CHECK_MAX_WAIT_MS: 'soon' }, 'CHECK_MAX_WAIT_MS: must be an integer from 0 to 30000 (got "soon")'],
    ['embedded', { EVENT_STORE: 'esdb', ESDB_URL: '' }, 'ESDB_URL: is required when EVENT_STORE=esdb'],
    ['metering', {}, 'BUS: must be kafka for the metering service on its own'],
    ['metering', { BUS: 'inprocess' }, 'BUS: must be kafka for the metering service on its own'],
    ['metering', { BUS: 'kafka' }, 'KAFKA_BROKERS: is required when BUS=kafka'],
    ['metering', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', METERING_DB: 'postgres' }, 'METERING_DB_URL: is required when METERING_DB=postgres'],
    ['metering', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', METERING_DB: 'mongo' }, 'METERING_DB: must be one of sqlite, postgres (got "mongo")'],
    ['metering', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', EVENT_STORE: 'esdb' }, 'ESDB_URL: is required when EVENT_STORE=esdb'],
    ['metering', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', METERING_DB: 'postgres', METERING_DB_URL: 'postgres://ledger@db/metering', METERING_DB_PASSWORD_FILE: '/run/secrets/nope' }, 'METERING_DB_PASSWORD_FILE: cannot read /run/secrets/nope (ENOENT)'],
    ['metering', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', METERING_DB: 'postgres', METERING_DB_URL: 'postgres://ledger:hunter2@db/metering?sslmode=require' }, 'METERING_DB_URL: carries sslmode: configure TLS with METERING_DB_SSL_MODE and METERING_DB_SSL_CA_FILE instead'],
    ['audit', {}, 'BUS: must be kafka for the audit service on its own'],
    ['audit', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', AUDIT_DB: 'postgres' }, 'AUDIT_DB_URL: is required when AUDIT_DB=postgres'],
    ['audit', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', AUDIT_TREE_HEAD_EVERY_EVENTS: '0' }, 'AUDIT_TREE_HEAD_EVERY_EVENTS: must be an integer from 1 to 10000000 (got "0")'],
    ['audit', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', AUDIT_DB: 'postgres', AUDIT_DB_URL: 'postgres://ledger:hunter2@db/audit?sslmode=require' }, 'AUDIT_DB_URL: carries sslmode: configure TLS with AUDIT_DB_SSL_MODE and AUDIT_DB_SSL_CA_FILE instead'],
    // Secured transports: each setting checked before anything connects; credentials never echoed.
    ['ledger', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'hunter2' }, 'KAFKA_SASL_USERNAME: is required when KAFKA_SASL_MECHANISM=scram-sha-512'],
    ['enforcement', { BUS: 'kafka', KAFKA_BROKERS: 'localhost:9092', KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/nonexistent/kafka-ca.pem' }, 'KAFKA_TLS_CA_FILE: cannot read /nonexistent/kafka-ca.pem (ENOENT)'],
    ['projector', { READ_DB: 'postgres', READ_DB_URL: 'postgres://ledger@db/ledger', READ_DB_PASSWORD_FILE: '/run/secrets/nope' }, 'READ_DB_PASSWORD_FILE: cannot read /run/secrets/nope (ENOENT)'],
    ['projector', { READ_DB: 'postgres', READ_DB_URL: 'mysql://ledger:hunter2@db/ledger' }, 'READ_DB_URL: must be a postgres or postgresql URL (got "mysql://ledger:***@db/ledger")'],
    ['ledger', { EVENT_STORE: 'esdb', ESDB_URL: 'esdb://admin:hunter2@localhost:2113?tls=false' }, 'ESDB_URL: sends credentials with tls=false'],
  ])('%s with %j stops with "%s"', (app, env, message) => {
    const { code, output } = boot(app, env as Record<string, string>);
    expect({ code, names: output.includes(message) }).toEqual({ code: 1, names: true });
    expect(output).not.toMatch(/\n\s+at /); // a message for a person, not a stack trace
    expect(output).not.toContain('hunter2');
  });
});
