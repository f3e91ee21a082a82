import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describeWithKafka, postgresBackend, repoRoot } from '@el/testing';

const ROOT = repoRoot(__dirname);

// The short version of `npm run chaos` (the README shows a long one): the broker, PostgreSQL and a
// service each killed with SIGKILL under mixed load, and every check of every round passing.
describeWithKafka('npm run chaos (short)', () => {
  it('kills Kafka, PostgreSQL and a service under load; after each round every write is there once and every derived state equals a rebuild', async () => {
    if (postgresBackend.unavailable) throw new Error(`PostgreSQL is needed: ${postgresBackend.unavailable}`);
    const run = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'distributed', 'src', 'chaos.js')], {
      cwd: ROOT,
      env: { ...process.env, CHAOS_ROUNDS: '3', CHAOS_LOAD_SECONDS: '4', CHAOS_ORDER: 'kafka,postgres,enforcement', KAFKA_BROKERS: '', PG_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    run.stdout!.on('data', (d) => (out += d));
    run.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => run.once('exit', (c) => r(c)));
    const rows = out.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect({ code, rows: rows.length, failed: rows.filter((r) => r.includes('✗')), log: code === 0 ? '' : err.slice(-3000) }).toEqual({ code: 0, rows: 3, failed: [], log: '' });
    expect(rows.map((r) => r.split('|')[2]!.trim())).toEqual(['kafka', 'postgres', 'enforcement']);
    expect(out).toContain('every check passed: 3 of 3 rounds');
  }, 600_000);
});
