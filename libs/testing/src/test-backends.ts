import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCI, which } from './infra';
import { kafkaLibDir } from './kafka';
import { postgresBinary } from './infra';
import { createDatabase, dropDatabase } from './postgres';

/** A read database for one test: a fresh SQLite file, or a fresh database on the run's PostgreSQL server. */
export type TestReadDb =
  | { readonly kind: 'sqlite'; readonly path: string; cleanup(): Promise<void> }
  | { readonly kind: 'postgres'; readonly url: string; cleanup(): Promise<void> };

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** Why the backend is not available (its suite is skipped with this reason printed), or null. */
  readonly unavailable: string | null;
  create(): Promise<TestReadDb>;
}

const warned = new Set<string>();

/**
 * Why a server's suites cannot run (null when its global setup provided it), printed once as one
 * clear line instead of a silent skip. In CI the global setups of PostgreSQL and Kafka fail instead.
 */
function skipReason(server: string, provided: string, skip: string): string | null {
  const reason = process.env[provided] ? null : (process.env[skip] ?? `the ${server} global setup did not run for this project`);
  if (reason && !warned.has(reason)) {
    warned.add(reason);
    process.stderr.write(`[skip] ${server} suites skipped: ${reason}\n`);
  }
  return reason;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  unavailable: null,
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'el-readdb-'));
    return { kind: 'sqlite', path: join(dir, 'read-models.db'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

export const postgresBackend: Backend = {
  name: 'postgres',
  get unavailable() {
    return skipReason('PostgreSQL', 'EL_TEST_PG_URL', 'EL_TEST_PG_SKIP');
  },
  async create() {
    const server = process.env['EL_TEST_PG_URL']!;
    const name = `el_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const url = await createDatabase(server, name);
    return { kind: 'postgres', url, cleanup: () => dropDatabase(server, name) };
  },
};

export const READ_DB_BACKENDS: readonly Backend[] = [sqliteBackend, postgresBackend];

/** `describe` for a backend: skipped, with the reason printed once, when it is unavailable. */
export function describeBackend(backend: Backend, name: string, fn: () => void): void {
  (backend.unavailable ? describe.skip : describe)(`${name} [${backend.name}]`, fn);
}

/** The run's Kafka broker for a test suite, or why there is none (the suite is then skipped with that reason printed once). */
export const kafkaForTests = {
  get brokers(): string[] {
    return (process.env['EL_TEST_KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
  },
  get unavailable(): string | null {
    return skipReason('Kafka', 'EL_TEST_KAFKA_BROKERS', 'EL_TEST_KAFKA_SKIP');
  },
};

/** `describe` for suites that need the Kafka broker. */
export function describeWithKafka(name: string, fn: () => void): void {
  (kafkaForTests.unavailable ? describe.skip : describe)(`${name} [kafka]`, fn);
}

/**
 * Why this machine cannot start a Kafka broker of a test's own (`startKafka` with options an
 * outside broker would not have, such as SCRAM users), or null. Never a reason in CI: there the
 * suite runs and fails when the broker cannot start.
 */
export function ownKafkaUnavailable(): string | null {
  if (inCI()) return null;
  const java = process.env['JAVA_HOME'] ? existsSync(join(process.env['JAVA_HOME'], 'bin', 'java')) : which('java') !== null;
  if (!java) return 'java (17+) was not found';
  if (!existsSync(join(kafkaLibDir(), '.complete')) && !which('mvn')) return 'the Kafka jars are not in .tools-cache (npm run kafka:fetch) and there is no Maven to fetch them';
  if (!which('openssl')) return 'openssl was not found (it makes the test certificates)';
  return null;
}

/** `describe` for suites that start a Kafka broker of their own; skipped, saying why, where none can be started (never in CI). */
export function describeWithOwnKafka(name: string, fn: () => void): void {
  const reason = ownKafkaUnavailable();
  if (reason && !warned.has(reason)) {
    warned.add(reason);
    process.stderr.write(`[skip] ${name}: ${reason}\n`);
  }
  (reason ? describe.skip : describe)(`${name} [own kafka]`, fn);
}

/** `describe` for suites that start a PostgreSQL server of their own (TLS, passwords); skipped, saying why, where none can be started (never in CI). */
export function describeWithOwnPostgres(name: string, fn: () => void): void {
  const reason = inCI() ? null : !postgresBinary('initdb') || !postgresBinary('pg_ctl') ? 'no initdb/pg_ctl (install the Debian package "postgresql")' : !which('openssl') ? 'openssl was not found (it makes the test certificates)' : null;
  if (reason && !warned.has(reason)) {
    warned.add(reason);
    process.stderr.write(`[skip] ${name}: ${reason}\n`);
  }
  (reason ? describe.skip : describe)(`${name} [own postgresql]`, fn);
}

/** The run's EventStoreDB for the contract suite, or why there is none (the suite is then skipped with that reason printed once). */
export const esdbForTests = {
  get url(): string {
    return process.env['EL_TEST_ESDB_URL'] ?? '';
  },
  get unavailable(): string | null {
    return skipReason('EventStoreDB', 'EL_TEST_ESDB_URL', 'EL_TEST_ESDB_SKIP');
  },
};
