import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort } from './infra';

/**
 * Runs the built entry point exactly as `npm start` does (`node
 * dist/apps/embedded/src/main.js`), as a real process with real signals.
 * The test target builds first.
 */
export const ROOT = (() => {
  let d = __dirname;
  while (!existsSync(join(d, 'nx.json')) && dirname(d) !== d) d = dirname(d);
  return d;
})();
const MAIN = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js');


export interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The Authorization header of the admin key the first start wrote to DATA_DIR/admin-api-key. */
  readonly admin: Record<string, string>;
  /** fetch(url + path) with the admin key, unless init.headers bring their own Authorization. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A new API key with this role, made through the API with the admin key; as request headers. */
  keyFor(role: string, customerId?: string): Promise<Record<string, string>>;
}

const admins = new Map<string, Record<string, string>>();

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
  const url = `http://127.0.0.1:${port}`;
  let admin: Record<string, string> = {};
  try {
    admin = { authorization: `Bearer ${readFileSync(env['ADMIN_API_KEY_FILE'] ?? join(env['DATA_DIR'] ?? join(ROOT, 'data'), 'admin-api-key'), 'utf8').trim()}` };
  } catch {
    /* the process did not come up, or wrote its key elsewhere */
  }
  admins.set(url, admin);
  const authed = (path: string, init: RequestInit = {}) => {
    const given = new Headers(init.headers);
    if (!given.has('authorization')) for (const [k, v] of Object.entries(admin)) given.set(k, v);
    return fetch(`${url}${path}`, { ...init, headers: given });
  };
  return {
    child,
    url,
    output: () => out,
    exited,
    admin,
    fetch: authed,
    async keyFor(role, customerId) {
      const res = await authed('/v1/api-keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `${role} for a test`, role, ...(customerId ? { customerId } : {}) }) });
      const body = (await res.json()) as { key?: string };
      if (res.status !== 201 || !body.key) throw new Error(`creating a ${role} key answered ${res.status}: ${JSON.stringify(body)}`);
      return { authorization: `Bearer ${body.key}` };
    },
  };
}

/** POSTs JSON; with the admin key of the process at that URL unless headers bring an Authorization. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const origin = new URL(url).origin;
  const auth = 'authorization' in headers ? {} : (admins.get(origin) ?? {});
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

