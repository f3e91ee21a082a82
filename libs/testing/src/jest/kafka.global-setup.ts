import { inCI, InfraUnavailableError } from '../infra';
import { startKafka, type KafkaBroker } from '../kafka';

/**
 * Jest globalSetup for projects whose tests need Kafka: starts one broker for
 * the run and hands it to the tests in EL_TEST_KAFKA_BROKERS. Without Java or
 * the jars the run fails in CI; elsewhere the Kafka suites are skipped and say
 * why (EL_TEST_KAFKA_SKIP).
 */
export default async function setup(): Promise<void> {
  try {
    const broker = await startKafka({ log: (l) => process.stderr.write(`${l}\n`) });
    (globalThis as { __elKafka?: KafkaBroker }).__elKafka = broker;
    process.env['EL_TEST_KAFKA_BROKERS'] = broker.brokers.join(',');
  } catch (err) {
    if (!(err instanceof InfraUnavailableError) || inCI()) throw err;
    process.env['EL_TEST_KAFKA_SKIP'] = err.message;
  }
}
