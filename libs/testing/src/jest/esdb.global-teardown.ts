import type { EsdbServer } from '../esdb';

export default async function teardown(): Promise<void> {
  await (globalThis as { __elEsdb?: EsdbServer }).__elEsdb?.stop();
}
