import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '@el/testing';
import { join } from 'node:path';

/**
 * Runs the built entry point exactly as `npm start` does (`node
 * dist/apps/embedded/src/main.js`), as a real process with real signals.
 * The test target builds first.
 */
export const ROOT = join(__dirname, '..', '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js');

export { freePort };

export interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function start(env: Record<string, string>): Promise<Running> {
  const port = env['PORT'] ?? String(await freePort());
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', EXPIRY_SWEEP_INTERVAL_MS: '0', ...env, PORT: port }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // Up when the banner with its URL is printed; the caller sees an early exit (or a timeout) in `output()` and `exited`.
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', done);
      resolve();
    };
    const check = () => void (out.includes(`http://localhost:${port}`) && done());
    const timer = setTimeout(done, 20_000);
    child.stdout!.on('data', check);
    child.on('exit', done);
    check();
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

