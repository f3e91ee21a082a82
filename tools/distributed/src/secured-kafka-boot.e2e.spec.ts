import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithOwnKafka, freePort, repoRoot, startKafka, until, type KafkaBroker } from '@el/testing';

const ROOT = repoRoot(__dirname);
const ENFORCEMENT = join(ROOT, 'dist', 'apps', 'enforcement', 'main.js');

/** A built service started with `env`; its whole output kept. */
function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, [ENFORCEMENT], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

// The enforcement service as deployed (deploy/k8s: SASL_SSL, SCRAM-SHA-512, the password in a
// mounted file) against a broker that requires exactly that: it boots, reports how it is
// connected, and at no log level prints the password; with a wrong one it stops at once, naming
// the variables.
describeWithOwnKafka('a service on a SASL_SSL (SCRAM-SHA-512) Kafka', () => {
  const password = `pw-${randomUUID()}`;
  let broker: KafkaBroker;
  let dir: string;
  const started: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-secured-boot-'));
    writeFileSync(join(dir, 'kafka-password'), password);
    writeFileSync(join(dir, 'wrong-password'), 'not-the-password');
    broker = await startKafka({ security: { scramUsers: [{ name: 'ledger', password }], tls: true }, partitions: 1 });
  }, 120_000);
  afterAll(async () => {
    for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (passwordFile: string, port: number) => ({
    PORT: String(port),
    LOG_LEVEL: 'debug',
    BUS: 'kafka',
    KAFKA_BROKERS: broker.tls!.brokers.join(','),
    KAFKA_TOPIC_PARTITIONS: '1',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: 'ledger',
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
    KAFKA_TLS: 'true',
    KAFKA_TLS_CA_FILE: broker.tls!.caFile,
    ENFORCEMENT_DATA_DIR: join(dir, `enforcement-${port}`),
    ENFORCEMENT_INSTANCE_ID: `secured-${port}`,
  });

  it('boots, says how it is connected, and never prints the password', async () => {
    const port = await freePort();
    const service = run(env(join(dir, 'kafka-password'), port));
    started.push(service.child);
    const health = await until(
      'the service to be healthy (or exit)',
      async () => {
        if (service.child.exitCode !== null) return { exited: service.output() };
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
        return res?.status === 200 ? ((await res.json()) as { components: { bus: unknown } }) : null;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(health).toMatchObject({ components: { bus: { status: 'up', kind: 'kafka', security: `${broker.tls!.brokers[0]} (SASL SCRAM-SHA-512 as ledger, TLS)` } } });
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(service.output()).toContain('Enforcement service is up');
    expect(service.output()).not.toContain(password);
  });

  it('with a wrong password: stops within seconds, naming the variables, without the password', async () => {
    const service = run(env(join(dir, 'wrong-password'), await freePort()));
    started.push(service.child);
    const t0 = Date.now();
    expect(await service.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000); // a node process and Nest's boot included
    expect(service.output()).toMatch(/enforcement failed to start: Invalid configuration:\n {2}- KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE: Kafka at 127\.0\.0\.1:\d+ refused user "ledger" \(scram-sha-512\)/);
    expect(service.output()).not.toContain('not-the-password');
    expect(service.output()).not.toMatch(/\n\s+at /);
  });
});
