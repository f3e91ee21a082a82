/**
 * The local distributed stack as parts that can be stopped, killed and started
 * again one by one: Kafka and PostgreSQL (when this stack started them) and
 * each service as its own process. `npm run start:distributed` runs it; the
 * resilience tests, `npm run chaos` and the headline benchmark kill and
 * restart its parts under load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, repoRoot, startKafka, startPostgres, type KafkaBroker, type PostgresServer } from '@el/testing';

const ROOT = repoRoot(__dirname);

export const SERVICE_NAMES = ['projector', 'ledger', 'enforcement', 'metering', 'audit'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface StackOptions {
  readonly dataDir: string;
  readonly ports: Readonly<Record<ServiceName, number>>;
  /** Use these brokers; otherwise a broker is started with its data in DATA_DIR/kafka. */
  readonly kafkaBrokers?: string;
  /** Port of the broker this stack starts (default: a free one, kept across its restarts). */
  readonly kafkaPort?: number;
  /** Use this PostgreSQL database for the read models; otherwise a server is started. */
  readonly readDbUrl?: string;
  readonly meteringDbUrl?: string;
  readonly auditDbUrl?: string;
  readonly eventStore?: 'sqlite' | 'esdb';
  readonly esdbUrl?: string;
  readonly logLevel?: string;
  /** Node.js arguments for every service process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS does not allow). */
  readonly nodeArgs?: readonly string[];
  /** More environment for every service (and per service). */
  readonly env?: Readonly<Record<string, string>>;
  readonly serviceEnv?: Partial<Record<ServiceName, Readonly<Record<string, string>>>>;
  /** Where the services' output goes: inherited (a launcher), or a callback (tests, chaos). */
  readonly output?: 'inherit' | ((service: ServiceName, chunk: string) => void);
  readonly say?: (line: string) => void;
  /** Called when a service exits without being asked to (the launcher stops everything). */
  readonly onUnexpectedExit?: (service: ServiceName, how: string) => void;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  expected: boolean;
}

/** As root, PostgreSQL runs as `postgres`, which may not reach DATA_DIR: its data then lives in postgres's home. */
export function postgresDir(dataDir: string): string {
  if (process.getuid?.() !== 0) return join(dataDir, 'postgres');
  return `/var/lib/postgresql/entitlement-ledger-${createHash('sha1').update(dataDir).digest('hex').slice(0, 10)}`;
}

export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export class LocalStack {
  kafka: KafkaBroker | null = null;
  postgres: PostgresServer | null = null;
  brokers = '';
  readDbUrl = '';
  private kafkaPort = 0;
  private postgresPort = 0;
  private meteringDbUrl = '';
  private auditDbUrl = '';
  private readonly running = new Map<ServiceName, Running>();
  /** The ledger's installation (the first event of its log), told to the enforcement service, which has no event store. */
  private installation: string | null = null;
  private readonly say: (line: string) => void;

  constructor(readonly options: StackOptions) {
    this.say = options.say ?? (() => undefined);
  }

  get ownsKafka(): boolean {
    return !this.options.kafkaBrokers;
  }

  get ownsPostgres(): boolean {
    return !this.options.readDbUrl;
  }

  url(service: ServiceName): string {
    return `http://127.0.0.1:${this.options.ports[service]}`;
  }

  /** Kafka and PostgreSQL (started when not given), then every service, each once healthy. */
  async start(): Promise<void> {
    mkdirSync(this.options.dataDir, { recursive: true });
    await this.startKafka();
    await this.startPostgres();
    // The projector first: it runs the migrations and creates the topics the others consume.
    for (const name of SERVICE_NAMES) await this.startService(name);
  }

  async startKafka(): Promise<void> {
    if (!this.ownsKafka) {
      this.brokers = this.options.kafkaBrokers!;
      return;
    }
    this.kafkaPort ||= this.options.kafkaPort ?? (await freePort());
    this.say(`starting Kafka (data in ${join(this.options.dataDir, 'kafka')})`);
    this.kafka = await startKafka({ dir: join(this.options.dataDir, 'kafka'), keepData: true, port: this.kafkaPort, partitions: 6, log: this.say, own: true });
    this.brokers = this.kafka.brokers.join(',');
  }

  /** SIGKILL to the broker (data kept): what a crashed or unplugged broker looks like to the services. */
  async killKafka(): Promise<void> {
    const pid = this.kafka?.pid;
    if (!pid) throw new Error('this stack did not start Kafka, so it cannot kill it');
    process.kill(pid, 'SIGKILL');
    await this.kafka!.stop(); // waits for the exit (already killed: nothing more is sent)
    this.kafka = null;
  }

  async startPostgres(): Promise<void> {
    if (!this.ownsPostgres) {
      this.readDbUrl = this.options.readDbUrl!;
      this.meteringDbUrl = this.options.meteringDbUrl || this.readDbUrl;
      this.auditDbUrl = this.options.auditDbUrl || this.readDbUrl;
      return;
    }
    const dir = postgresDir(this.options.dataDir);
    this.say(`starting PostgreSQL (data in ${dir})`);
    this.postgresPort ||= await freePort();
    this.postgres = await startPostgres({ dir, durable: true, port: this.postgresPort, own: true });
    this.readDbUrl = await ensureDatabase(this.postgres.url, 'ledger');
    // The metering and audit stores' tables have their own migrations tables: databases of their own.
    this.meteringDbUrl = this.options.meteringDbUrl || (await ensureDatabase(this.postgres.url, 'metering'));
    this.auditDbUrl = this.options.auditDbUrl || (await ensureDatabase(this.postgres.url, 'audit'));
  }

  /** SIGKILL to PostgreSQL's every process (data kept, crash-recovered at the next start). */
  async killPostgres(): Promise<void> {
    if (!this.postgres?.kill) throw new Error('this stack did not start PostgreSQL, so it cannot kill it');
    await this.postgres.kill();
    this.postgres = null;
  }

  /** A service's environment as this stack starts it. */
  environment(name: ServiceName): Record<string, string> {
    const o = this.options;
    const common: Record<string, string> = {
      DATA_DIR: o.dataDir,
      EVENT_STORE: o.eventStore ?? 'sqlite',
      ...(o.esdbUrl ? { ESDB_URL: o.esdbUrl } : {}),
      READ_DB: 'postgres',
      READ_DB_URL: this.readDbUrl,
      BUS: 'kafka',
      KAFKA_BROKERS: this.brokers,
      LOG_LEVEL: o.logLevel ?? 'info',
      PORT: String(o.ports[name]),
    };
    const own: Record<ServiceName, Record<string, string>> = {
      projector: {},
      ledger: {},
      enforcement: { ENFORCEMENT_DATA_DIR: join(o.dataDir, 'enforcement'), ENFORCEMENT_INSTANCE_ID: 'local-1' },
      metering: { METERING_DB: 'postgres', METERING_DB_URL: this.meteringDbUrl },
      audit: { AUDIT_DB: 'postgres', AUDIT_DB_URL: this.auditDbUrl },
    };
    if (name === 'enforcement' && this.installation) own.enforcement!['LEDGER_INSTALLATION_ID'] = this.installation;
    return { ...common, ...own[name], ...o.env, ...o.serviceEnv?.[name] };
  }

  /** Starts the service's process and resolves once its /health says 200 (ms it took). */
  async startService(name: ServiceName, timeoutMs = 90_000): Promise<number> {
    if (this.running.has(name)) throw new Error(`${name} is already running`);
    const started = performance.now();
    if (name === 'enforcement' && !this.installation && this.running.has('ledger')) this.installation = await this.ledgerInstallation();
    this.say(`starting ${name} on port ${this.options.ports[name]}`);
    const output = this.options.output ?? 'inherit';
    const child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), join(ROOT, 'dist', 'apps', name, 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...this.environment(name) },
      stdio: output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    });
    if (typeof output === 'function') {
      child.stdout!.on('data', (d: Buffer) => output(name, d.toString('utf8')));
      child.stderr!.on('data', (d: Buffer) => output(name, d.toString('utf8')));
    }
    const entry: Running = {
      child,
      expected: false,
      exited: new Promise<void>((resolve) =>
        child.once('exit', (code, signal) => {
          if (this.running.get(name) === entry) this.running.delete(name);
          if (!entry.expected) this.options.onUnexpectedExit?.(name, signal ?? `code ${code}`);
          resolve();
        }),
      ),
    };
    this.running.set(name, entry);
    await this.waitHealthy(name, () => !this.running.has(name) || this.running.get(name) !== entry, timeoutMs);
    return performance.now() - started;
  }

  private async ledgerInstallation(): Promise<string | null> {
    try {
      const res = await fetch(`${this.url('ledger')}/health`, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { components?: { bus?: { installation?: unknown } } };
      const id = body.components?.bus?.installation;
      return typeof id === 'string' ? id : null;
    } catch {
      return null;
    }
  }

  /** SIGKILL: no shutdown hook runs, no consumer group is left. */
  async killService(name: ServiceName): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    r.expected = true;
    r.child.kill('SIGKILL');
    await r.exited;
  }

  /** SIGTERM, and how the process ended and how long it took (SIGKILL after `graceMs`). */
  async stopService(name: ServiceName, graceMs = 15_000): Promise<{ code: number | null; signal: string | null; ms: number }> {
    const r = this.running.get(name);
    if (!r) return { code: null, signal: null, ms: 0 };
    r.expected = true;
    const started = performance.now();
    const kill = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
    r.child.kill('SIGTERM');
    await r.exited;
    clearTimeout(kill);
    return { code: r.child.exitCode, signal: r.child.signalCode, ms: performance.now() - started };
  }

  isRunning(name: ServiceName): boolean {
    return this.running.has(name);
  }

  private async waitHealthy(name: ServiceName, exited: () => boolean, timeoutMs: number): Promise<void> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    let last = '';
    // What kept it from being ready, as it changed: said when readiness takes long.
    const states: string[] = [];
    const note = (state: string) => {
      if (states[states.length - 1]?.endsWith(state)) return;
      states.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${state}`);
    };
    while (Date.now() < deadline) {
      if (exited()) throw new Error(`${name} exited during start (its log is above)`);
      try {
        const res = await fetch(`${this.url(name)}/health`, { signal: AbortSignal.timeout(2_000) });
        last = `${res.status} ${await res.text()}`;
        if (res.status === 200) {
          if (Date.now() - started > 5_000) this.say(`${name} took ${((Date.now() - started) / 1000).toFixed(1)} s to be ready: ${states.join('; ')}`);
          return;
        }
        const body = JSON.parse(last.slice(4)) as { components?: Record<string, { status: string; reason?: string; error?: string; consumers?: { group: string; state: string }[] }> };
        const waiting = (body.components?.['bus']?.consumers ?? []).filter((c) => c.state !== 'consuming').map((c) => `${c.group} ${c.state}`);
        note(
          [
            ...Object.entries(body.components ?? {})
              .filter(([, c]) => c.status === 'down')
              .map(([k, c]) => `${k} down (${(c.reason ?? c.error ?? '').slice(0, 80)}${'progress' in c ? ` ${JSON.stringify((c as { progress: unknown }).progress)}` : ''}${'replay' in c ? ` ${JSON.stringify((c as { replay: unknown }).replay)}` : ''})`),
            ...(waiting.length > 0 ? [`consumers ${waiting.join(', ')}`] : []),
          ].join(', '),
        );
      } catch (err) {
        last = (err as Error).message;
        note('not answering');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${name} not healthy after ${timeoutMs / 1000} s: ${last.slice(0, 800)}`);
  }

  /** Every service (SIGTERM, in reverse order of start), then the servers this stack started. */
  async stop(): Promise<void> {
    await Promise.all([...SERVICE_NAMES].reverse().map((name) => this.stopService(name)));
    if (this.kafka) {
      this.say('stopping Kafka');
      await this.kafka.stop().catch((e: unknown) => this.say(`Kafka: ${(e as Error).message}`));
      this.kafka = null;
    }
    if (this.postgres) {
      this.say('stopping PostgreSQL');
      await this.postgres.stop().catch((e: unknown) => this.say(`PostgreSQL: ${(e as Error).message}`));
      this.postgres = null;
    }
  }
}
