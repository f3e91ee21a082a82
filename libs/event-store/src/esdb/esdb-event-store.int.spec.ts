import { esdbForTests } from '@el/testing';
import { eventStoreContract } from '../testing/event-store.contract';
import { EsdbEventStore } from './esdb-event-store';

// The same contract suite as the SQLite adapter, on a real EventStoreDB: ESDB_URL, or a container
// when a Docker engine exists. Otherwise one line says why it is skipped (see libs/testing/src/esdb.ts).
(esdbForTests.unavailable ? describe.skip : describe)('EventStoreDB adapter', () => {
  eventStoreContract(
    'EventStoreDB',
    async () => {
      const store = new EsdbEventStore({ url: esdbForTests.url, pollIntervalMs: 200 });
      return { store, cleanup: () => store.close() };
    },
    { densePositions: false, globalEventIds: false },
  );
});
