import { eventStoreDbForTests, type EsdbServer } from '../esdb';

/**
 * Jest globalSetup for the EventStoreDB contract suite: EL_TEST_ESDB_URL when a
 * server is available (ESDB_URL, or a container when a Docker engine exists),
 * else EL_TEST_ESDB_SKIP with the reason. Not a CI failure: these machines
 * cannot run EventStoreDB (no Docker engine, no package).
 */
export default async function setup(): Promise<void> {
  const server = await eventStoreDbForTests();
  if ('unavailable' in server) {
    process.env['EL_TEST_ESDB_SKIP'] = server.unavailable;
    return;
  }
  (globalThis as { __elEsdb?: EsdbServer }).__elEsdb = server;
  process.env['EL_TEST_ESDB_URL'] = server.url;
}
