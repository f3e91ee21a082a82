import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Thrown when a real dependency (PostgreSQL, Kafka) cannot be provided. */
export class InfraUnavailableError extends Error {
  override readonly name = 'InfraUnavailableError';
}

export const inCI = (): boolean => /^(1|true|yes)$/i.test(process.env['CI'] ?? '');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Runs a command, as `user` when this process is root (servers such as PostgreSQL refuse to run as root). */
export function runAs(user: string | null, command: string, args: readonly string[], options: { cwd?: string } = {}): string {
  const [cmd, argv] = user && process.getuid?.() === 0 ? ['runuser', ['-u', user, '--', command, ...args]] : [command, [...args]];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

export function which(binary: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function tempDirFor(user: string | null, prefix: string): string {
  return ownedBy(user, mkdtempSync(join(tmpdir(), prefix)));
}

/** Hands `dir` to `user` when we are root (servers that refuse to run as root run as that user). */
export function ownedBy(user: string | null, dir: string): string {
  if (user && process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Newest `/usr/lib/postgresql/<version>/bin` holding `binary`, or the one on PATH. */
export function postgresBinary(binary: string): string | null {
  const onPath = which(binary);
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', binary))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin', binary) : null;
}

/** The repository root (the folder holding nx.json), from sources and from dist/ alike. */
export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${from}`);
  }
}
