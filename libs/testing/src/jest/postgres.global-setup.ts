import { inCI, InfraUnavailableError } from '../infra';
import { startPostgres, type PostgresServer } from '../postgres';

/**
 * Jest globalSetup for projects whose tests need PostgreSQL: starts one server
 * for the run and hands its URL to the tests in EL_TEST_PG_URL. Without
 * PostgreSQL the run fails in CI; elsewhere the PostgreSQL suites are skipped
 * and say why (EL_TEST_PG_SKIP).
 */
export default async function setup(): Promise<void> {
  try {
    const server = await startPostgres();
    (globalThis as { __elPostgres?: PostgresServer }).__elPostgres = server;
    process.env['EL_TEST_PG_URL'] = server.url;
  } catch (err) {
    if (!(err instanceof InfraUnavailableError) || inCI()) throw err;
    process.env['EL_TEST_PG_SKIP'] = err.message;
  }
}
