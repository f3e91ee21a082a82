import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, InfraUnavailableError, ownedBy, postgresBinary, removeDir, runAs, tempDirFor } from './infra';

export interface PostgresServer {
  /** URL of the server's `postgres` database (create one database per test suite from it). */
  readonly url: string;
  readonly external: boolean;
  stop(): Promise<void>;
  /**
   * Kills the server as a crash would (SIGKILL to the postmaster and every
   * backend; data kept, recovered at the next start on the same `dir` and
   * `port`). Servers this harness did not start cannot be killed.
   */
  kill?(): Promise<void>;
}

export interface PostgresOptions {
  /** Durable settings (fsync on) for benchmarks and local runs; tests run without fsync. */
  readonly durable?: boolean;
  /** A persistent directory (created, or reused with its data) instead of a throwaway temp dir; kept on stop. */
  readonly dir?: string;
  readonly port?: number;
  /** Start a server of its own even when PG_URL is set (a test or a tool that kills and restarts it). */
  readonly own?: boolean;
  /**
   * TLS on (ssl=on) with this certificate and key. PG_URL is then ignored: the
   * test needs a server it configured.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /**
   * The `postgres` user's password. Connections over TCP must then present it
   * (scram-sha-256) — and, with `tls`, come over TLS (`hostssl` only): a
   * plaintext connection is refused.
   */
  readonly password?: string;
}

/**
 * A PostgreSQL server for tests and benchmarks: `PG_URL` when set, otherwise a
 * throwaway server from the machine's binaries (`initdb` + `pg_ctl` in a temp
 * directory on a free port, run as the `postgres` user when we are root).
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const external = options.tls || options.password || options.own ? undefined : process.env['PG_URL'];
  if (external) return { url: external, external: true, stop: async () => undefined };

  const initdb = postgresBinary('initdb');
  const pgCtl = postgresBinary('pg_ctl');
  if (!initdb || !pgCtl) {
    throw new InfraUnavailableError('PostgreSQL: no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin (install the Debian package "postgresql", or set PG_URL)');
  }
  const user = process.getuid?.() === 0 ? 'postgres' : null;
  const keep = Boolean(options.dir);
  const dir = options.dir ? ownedBy(user, (mkdirSync(options.dir, { recursive: true, mode: 0o700 }), options.dir)) : tempDirFor(user, 'el-pg-');
  const data = join(dir, 'data');
  const port = options.port ?? (await freePort());
  try {
    if (!existsSync(join(data, 'PG_VERSION'))) {
      const pwfile = join(dir, 'pwfile');
      if (options.password) ownedBy(user, (writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 }), pwfile));
      const auth = options.password ? ['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`] : ['--auth=trust'];
      runAs(user, initdb, ['-D', data, '-U', 'postgres', ...auth, '--encoding=UTF8', '--no-sync', '--no-instructions']);
      // pg_ctl waits on the Unix socket (trusted); over TCP, only TLS connections with the password.
      if (options.password && options.tls) writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
    }
    const tls: string[] = [];
    if (options.tls) {
      // The server refuses a key others can read: copies owned by the server's user, mode 0600.
      for (const [from, to] of [[options.tls.certFile, 'server.crt'], [options.tls.keyFile, 'server.key']] as const) {
        copyFileSync(from, join(dir, to));
        chmodSync(join(dir, to), 0o600);
        ownedBy(user, join(dir, to));
      }
      tls.push('-c ssl=on', `-c ssl_cert_file=${join(dir, 'server.crt')}`, `-c ssl_key_file=${join(dir, 'server.key')}`);
    }
    const settings = [
      ...tls,
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=300',
      ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ].join(' ');
    runAs(user, pgCtl, ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
  } catch (err) {
    let log = '';
    try {
      log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
    } catch {
      /* no log yet */
    }
    if (!keep) removeDir(dir);
    const e = err as { stderr?: string; message: string };
    throw new InfraUnavailableError(`PostgreSQL did not start: ${e.stderr || e.message}\n${log}`);
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    external: false,
    async kill() {
      const pidFile = join(data, 'postmaster.pid');
      if (!existsSync(pidFile)) return;
      const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      // The backends first (children of the postmaster), then the postmaster: nothing is left to flush anything.
      const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of [...children, postmaster]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && [postmaster, ...children].some(alive)) await new Promise((r) => setTimeout(r, 50));
    },
    async stop() {
      try {
        runAs(user, pgCtl, ['-D', data, '-m', keep ? 'fast' : 'immediate', '-w', 'stop']);
      } finally {
        if (!keep) removeDir(dir);
      }
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Creates a fresh database on the server and returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
