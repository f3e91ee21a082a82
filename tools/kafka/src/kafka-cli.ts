/**
 * npm run kafka:start | kafka:stop | kafka:fetch
 *
 * A single-node Apache Kafka (KRaft) for local runs, from the Maven Central
 * jars (fetched once into .tools-cache/) and the machine's Java 17. State lives
 * in .tools-cache/kafka-run; `start` prints the KAFKA_BROKERS to use.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKafkaJars, repoRoot, startKafka } from '@el/testing';

const REPO = repoRoot(__dirname);
const STATE = join(REPO, '.tools-cache', 'kafka-run');
const log = (l: string) => process.stderr.write(`${l}\n`);

function running(): { pid: number; brokers: string[] } | null {
  const file = join(STATE, 'broker.json');
  if (!existsSync(file)) return null;
  const info = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; brokers: string[] };
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'fetch':
      log(`Kafka jars in ${ensureKafkaJars(log)}`);
      return;
    case 'start': {
      const already = running();
      if (already) {
        process.stdout.write(`Kafka is already running (pid ${already.pid})\nKAFKA_BROKERS=${already.brokers.join(',')}\n`);
        return;
      }
      const port = process.env['KAFKA_PORT'] ? Number(process.env['KAFKA_PORT']) : 9092;
      const broker = await startKafka({ dir: STATE, port, detached: true, keepData: true, log });
      process.stdout.write(`Kafka ${broker.brokers.join(',')} is up (pid ${broker.pid}, data in ${STATE})\nKAFKA_BROKERS=${broker.brokers.join(',')}\n`);
      return;
    }
    case 'stop': {
      const info = running();
      if (!info) {
        process.stdout.write('Kafka is not running\n');
        return;
      }
      process.kill(info.pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (running()) process.kill(info.pid, 'SIGKILL');
      rmSync(join(STATE, 'broker.json'), { force: true });
      process.stdout.write(`Kafka (pid ${info.pid}) stopped\n`);
      return;
    }
    default:
      process.stderr.write('usage: kafka-cli fetch | start | stop   (KAFKA_PORT to choose the port, default 9092)\n');
      process.exit(2);
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`kafka: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
