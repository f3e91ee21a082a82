import type { KafkaBroker } from '../kafka';

export default async function teardown(): Promise<void> {
  await (globalThis as { __elKafka?: KafkaBroker }).__elKafka?.stop();
}
