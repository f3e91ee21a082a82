import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '@el/testing';

const ROOT = repoRoot(__dirname);

/** `npm run kafka:start` as a user runs it: a port someone else holds is a failure with the reason, never "up". */
describe('npm run kafka:start', () => {
  it('fails, naming the port, when the port is taken', async () => {
    const squatter = createServer(() => undefined);
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as { port: number }).port;
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'tools', 'kafka', 'src', 'kafka-cli.js'), 'start'], { cwd: ROOT, env: { ...process.env, KAFKA_PORT: String(port), KAFKA_BROKERS: '' }, encoding: 'utf8', timeout: 120_000 });
      expect({ status: r.status, up: r.stdout.includes('is up') }).toEqual({ status: 1, up: false });
      expect(r.stderr).toContain(`port ${port} is already in use by another process`);
    } finally {
      squatter.close();
    }
  });
});
