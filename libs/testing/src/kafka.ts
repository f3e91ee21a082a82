import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, InfraUnavailableError, removeDir, repoRoot, which } from './infra';
import { makeTestCertificates } from './tls';

const REPO = repoRoot();
const POM = join(REPO, 'tools', 'kafka', 'pom.xml');

export interface KafkaBroker {
  /** Bootstrap servers, e.g. ["127.0.0.1:41231"]; with `security`, the SASL_PLAINTEXT listener. */
  readonly brokers: string[];
  readonly external: boolean;
  /** With `security.tls`: the SASL_SSL listener, and the CA (PEM) that issued its certificate. */
  readonly tls?: { readonly brokers: string[]; readonly caFile: string; readonly strangerCaFile: string };
  /** Process id of the broker when this process started it. */
  readonly pid?: number;
  /** Stops the broker (SIGTERM, then SIGKILL after 15 s) and removes its data unless `keepData`. */
  stop(): Promise<void>;
}

export function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!m) throw new Error(`no kafka.version in ${POM}`);
  return m[1]!;
}

/** Where the broker's jars are cached (`.tools-cache/kafka-<version>/libs`). */
export function kafkaLibDir(): string {
  return join(REPO, '.tools-cache', `kafka-${kafkaVersion()}`, 'libs');
}

/**
 * Fetches Apache Kafka and its runtime dependencies from Maven Central with
 * `mvn dependency:copy-dependencies` (once; later calls use the cache).
 */
export function ensureKafkaJars(log: (line: string) => void = () => undefined): string {
  const libs = kafkaLibDir();
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;
  const mvn = which('mvn');
  if (!mvn) throw new InfraUnavailableError('Kafka: Maven (mvn) is needed to fetch the broker jars from Maven Central, and was not found (or set KAFKA_BROKERS)');
  log(`fetching Apache Kafka ${kafkaVersion()} from Maven Central into ${libs}`);
  mkdirSync(libs, { recursive: true });
  const r = spawnSync(mvn, ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], { encoding: 'utf8' });
  if (r.status !== 0) throw new InfraUnavailableError(`Kafka: mvn dependency:copy-dependencies failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  if (!readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'))) throw new InfraUnavailableError(`Kafka: no kafka_2.13 jar in ${libs} after mvn`);
  writeFileSync(marker, new Date().toISOString());
  return libs;
}

function java(): string {
  const home = process.env['JAVA_HOME'];
  const bin = home ? join(home, 'bin', 'java') : which('java');
  if (!bin || !existsSync(bin)) throw new InfraUnavailableError('Kafka: java (17+) not found (or set KAFKA_BROKERS)');
  return bin;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface StartKafkaOptions {
  /** State directory (data, config, logs); a temp dir when omitted. */
  readonly dir?: string;
  readonly port?: number;
  /** Let the broker outlive this process (for `npm run kafka:start`). */
  readonly detached?: boolean;
  /** Start a broker of its own even when KAFKA_BROKERS is set (a test or a tool that kills and restarts it). */
  readonly own?: boolean;
  readonly keepData?: boolean;
  readonly partitions?: number;
  readonly log?: (line: string) => void;
  /**
   * A broker that authenticates its clients: SASL (SCRAM-SHA-512) on every
   * client listener, with these users created when the storage is formatted
   * (`kafka-storage format --add-scram`, KIP-900), so no broker has to be up to
   * create them. Brokers talk to each other over SCRAM too (an internal user);
   * only the controller listener on the loopback stays PLAINTEXT. KAFKA_BROKERS is
   * ignored: an outside broker would not know these users.
   */
  readonly security?: KafkaSecurityOptions;
}

export interface KafkaSecurityOptions {
  /** Names and passwords: letters, digits, '-' and '_' (they go into properties and the format command unquoted). */
  readonly scramUsers: readonly { readonly name: string; readonly password: string }[];
  /** Also a SASL_SSL listener, its certificate issued for 127.0.0.1/localhost by a throwaway CA (openssl). */
  readonly tls?: boolean;
}

const PLAIN_WORD = /^[A-Za-z0-9_-]+$/;
const scramLogin = (user: string, password: string) => `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`;

/** The listener lines of server.properties, and the SCRAM credentials to create at format time. */
async function listenerConfig(port: number, controllerPort: number, dir: string, security: KafkaSecurityOptions | undefined) {
  if (!security) {
    return {
      lines: [
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      ],
      scram: [] as string[],
    };
  }
  // The brokers' own user: kept with the data, since its credentials are in the formatted metadata log.
  const brokerPasswordFile = join(dir, 'scram-broker-password');
  if (!existsSync(brokerPasswordFile)) writeFileSync(brokerPasswordFile, randomBytes(18).toString('hex'), { mode: 0o600 });
  const broker = { name: 'el-broker', password: readFileSync(brokerPasswordFile, 'utf8').trim() };
  const users = [broker, ...security.scramUsers];
  for (const u of users) {
    if (!PLAIN_WORD.test(u.name) || !PLAIN_WORD.test(u.password)) throw new Error(`Kafka SCRAM user ${JSON.stringify(u.name)}: names and passwords of test users are letters, digits, '-' and '_'`);
  }
  const tlsPort = security.tls ? await freePort() : null;
  const certs = security.tls ? makeTestCertificates(join(dir, 'tls')) : null;
  if (certs) writeFileSync(join(dir, 'tls', 'keystore.pem'), readFileSync(certs.keyFile, 'utf8') + readFileSync(certs.certFile, 'utf8'), { mode: 0o600 });
  const clientListeners = [`SASL_PLAINTEXT://127.0.0.1:${port}`, ...(tlsPort ? [`SASL_SSL://127.0.0.1:${tlsPort}`] : [])];
  return {
    lines: [
      `listeners=${clientListeners.join(',')},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=${clientListeners.join(',')}`,
      'inter.broker.listener.name=SASL_PLAINTEXT',
      'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
      `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${scramLogin(broker.name, broker.password)}`,
      ...(certs
        ? [
            // The server side of SCRAM reads the credentials from the metadata log; the login module only names the mechanism.
            'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
            'ssl.keystore.type=PEM',
            `ssl.keystore.location=${join(dir, 'tls', 'keystore.pem')}`,
            'ssl.client.auth=none',
          ]
        : []),
    ],
    scram: users.flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`]),
    tls: certs && tlsPort ? { brokers: [`127.0.0.1:${tlsPort}`], caFile: certs.caFile, strangerCaFile: certs.strangerCaFile } : undefined,
  };
}

/**
 * A single-node Apache Kafka (KRaft, combined broker and controller) for tests
 * and local runs: `KAFKA_BROKERS` when set, otherwise started from the Maven
 * Central jars with the machine's Java on free ports.
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const external = options.security || options.own ? undefined : process.env['KAFKA_BROKERS'];
  if (external) return { brokers: external.split(',').map((b) => b.trim()), external: true, stop: async () => undefined };

  const javaBin = java();
  const libs = ensureKafkaJars(options.log);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'el-kafka-'));
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  // Something else answering on the port would pass for this broker: refuse to start rather than say "up".
  if (options.port !== undefined && (await portOpen(port))) throw new InfraUnavailableError(`Kafka: port ${port} is already in use by another process; stop it or choose another port (KAFKA_PORT)`);
  const controllerPort = await freePort();
  const data = join(dir, 'data');
  const config = join(dir, 'server.properties');
  const listeners = await listenerConfig(port, controllerPort, dir, options.security);
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      'controller.listener.names=CONTROLLER',
      ...listeners.lines,
      `log.dirs=${data}`,
      `num.partitions=${options.partitions ?? 3}`,
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'auto.create.topics.enable=false',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(
    log4j,
    ['rootLogger.level=WARN', 'rootLogger.appenderRef.file.ref=FILE', 'appender.file.type=File', 'appender.file.name=FILE', `appender.file.fileName=${join(dir, 'server.log')}`, 'appender.file.layout.type=PatternLayout', 'appender.file.layout.pattern=%d [%p] %c: %m%n', 'logger.kafka.name=kafka', 'logger.kafka.level=INFO', ''].join('\n'),
  );
  const classpath = `${libs}/*`;
  if (!existsSync(join(data, 'meta.properties'))) {
    const id = spawnSync(javaBin, ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' }).stdout.trim().split('\n').pop()!;
    const f = spawnSync(javaBin, ['-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', config, ...listeners.scram], { encoding: 'utf8' });
    if (f.status !== 0) throw new InfraUnavailableError(`Kafka: formatting KRaft storage failed:\n${f.stdout}${f.stderr}`);
  }
  // Only what this start writes counts: with kept data, the log of an earlier run says "started" too.
  const serverLog = join(dir, 'server.log');
  const logStart = existsSync(serverLog) ? statSync(serverLog).size : 0;
  const startedNow = () => {
    const text = readFileSync(serverLog, { encoding: 'utf8', flag: 'a+' });
    return text.length >= logStart && text.slice(logStart).includes('Kafka Server started');
  };
  const out = openSync(join(dir, 'stdout.log'), 'a');
  const child: ChildProcess = spawn(javaBin, ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath, 'kafka.Kafka', config], {
    stdio: ['ignore', out, out],
    detached: Boolean(options.detached),
  });
  if (options.detached) child.unref();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const deadline = Date.now() + 90_000;
  while (!startedNow() || !(await portOpen(port))) {
    if (exitCode !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = readFileSync(join(dir, 'stdout.log'), 'utf8').slice(-2000) + readFileSync(serverLog, { encoding: 'utf8', flag: 'a+' }).slice(logStart).slice(-2000);
      throw new InfraUnavailableError(exitCode !== undefined ? `Kafka exited (code ${exitCode}) while starting:\n${tail}` : `Kafka did not start within 90 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  writeFileSync(join(dir, 'broker.json'), JSON.stringify({ pid: child.pid, brokers: [`127.0.0.1:${port}`], ...(listeners.tls ? { tls: listeners.tls } : {}) }));
  return {
    brokers: [`127.0.0.1:${port}`],
    external: false,
    ...(listeners.tls ? { tls: listeners.tls } : {}),
    pid: child.pid!,
    async stop() {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      if (!options.keepData && !options.dir) removeDir(dir);
    },
  };
}
