/**
 * Kafka's own producer benchmark (org.apache.kafka.tools.ProducerPerformance),
 * the peer of the relay in bench:kafka: the same release as the broker
 * (tools/kafka/pom.xml), fetched once from Maven Central like the broker jars
 * (tools/bench/kafka-tools.pom.xml, into .tools-cache/kafka-tools-<version>/libs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaVersion, repoRoot, which } from '@el/testing';

const ROOT = repoRoot();

/** The classpath folder, fetched when missing; or why it cannot be. */
export function ensureKafkaTools(log: (line: string) => void): { libs: string } | { skipped: string } {
  const version = kafkaVersion();
  const libs = join(ROOT, '.tools-cache', `kafka-tools-${version}`, 'libs');
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return { libs };
  const mvn = which('mvn');
  if (!mvn) return { skipped: `ProducerPerformance row skipped: Maven (mvn) is needed once to fetch org.apache.kafka:kafka-tools:${version} from Maven Central` };
  log(`fetching org.apache.kafka:kafka-tools:${version} from Maven Central into ${libs}`);
  mkdirSync(libs, { recursive: true });
  const pom = join(ROOT, 'tools', 'bench', 'kafka-tools.pom.xml');
  const r = spawnSync(mvn, ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-Dkafka.version=${version}`, `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], { encoding: 'utf8' });
  if (r.status !== 0 || !readdirSync(libs).some((f) => f.startsWith(`kafka-tools-${version}`))) {
    return { skipped: `ProducerPerformance row skipped: mvn dependency:copy-dependencies failed:\n${(r.stdout + r.stderr).slice(-2000)}` };
  }
  writeFileSync(marker, new Date().toISOString());
  return { libs };
}

export interface ProducerPerformanceResult {
  readonly records: number;
  readonly perSecond: number;
  readonly mbPerSecond: number;
  readonly avgLatencyMs: number;
  readonly p99Ms: number;
  readonly line: string;
}

/**
 * Sends `records` records of `recordSize` bytes as fast as it can
 * (--throughput -1), idempotent with acks=all, the producer's other settings
 * at Kafka's defaults. Reads its final summary line.
 */
export async function producerPerformance(libs: string, options: { brokers: readonly string[]; topic: string; records: number; recordSize: number }): Promise<ProducerPerformanceResult> {
  const java = process.env['JAVA_HOME'] ? join(process.env['JAVA_HOME'], 'bin', 'java') : (which('java') ?? 'java');
  const log4j = join(libs, '..', 'log4j2.properties');
  writeFileSync(log4j, 'rootLogger.level=WARN\nrootLogger.appenderRef.console.ref=STDERR\nappender.console.type=Console\nappender.console.name=STDERR\nappender.console.target=SYSTEM_ERR\nappender.console.layout.type=PatternLayout\nappender.console.layout.pattern=%m%n\n');
  const args = [
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    `${libs}/*`,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    options.topic,
    '--num-records',
    String(options.records),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${options.brokers.join(',')}`,
    'acks=all',
    'enable.idempotence=true',
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`ProducerPerformance exited with ${code}:\n${(stdout + stderr).slice(-2000)}`))));
  });
  // e.g. "200000 records sent, 61349.7 records/sec (29.25 MB/sec), 512.31 ms avg latency, 901.00 ms max latency, 490 ms 50th, 850 ms 95th, 890 ms 99th, 899 ms 99.9th."
  const line = out.trim().split('\n').reverse().find((l) => / records sent, .* 99th/.test(l));
  const m = line && /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, .*?(\d+) ms 99th/.exec(line);
  if (!line || !m) throw new Error(`ProducerPerformance printed no summary line:\n${out.slice(-2000)}`);
  return { records: Number(m[1]), perSecond: Number(m[2]), mbPerSecond: Number(m[3]), avgLatencyMs: Number(m[4]), p99Ms: Number(m[5]), line };
}
