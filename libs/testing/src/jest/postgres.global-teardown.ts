import type { PostgresServer } from '../postgres';

export default async function teardown(): Promise<void> {
  await (globalThis as { __elPostgres?: PostgresServer }).__elPostgres?.stop();
}
