import { existsSync } from 'node:fs';

/** The EventStoreDB image the tests (and docker-compose.yml) use. */
export const ESDB_IMAGE = 'eventstore/eventstore:24.10';

export interface EsdbServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Whether a Docker engine can be reached (DOCKER_HOST, or the default socket). */
export function dockerEngineReachable(): boolean {
  return Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
}

/**
 * An EventStoreDB for the contract suite: ESDB_URL when set, else a throwaway
 * container (insecure single node) through testcontainers when a Docker engine
 * exists, else null with the reason — EventStoreDB has no package to run
 * without Docker, so its suite is then skipped with one line saying why.
 */
export async function eventStoreDbForTests(): Promise<EsdbServer | { readonly unavailable: string }> {
  const url = process.env['ESDB_URL'];
  if (url) return { url, stop: async () => undefined };
  if (!dockerEngineReachable()) return { unavailable: 'ESDB_URL is not set and there is no Docker engine to start EventStoreDB in (set ESDB_URL=esdb://host:2113?tls=false to run them)' };
  // Loaded only when a Docker engine exists: testcontainers probes the engine on import.
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(ESDB_IMAGE)
    .withEnvironment({ EVENTSTORE_INSECURE: 'true', EVENTSTORE_RUN_PROJECTIONS: 'None', EVENTSTORE_MEM_DB: 'true', EVENTSTORE_CLUSTER_SIZE: '1' })
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
    .withStartupTimeout(120_000)
    .start();
  return {
    url: `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
    stop: async () => void (await container.stop()),
  };
}
