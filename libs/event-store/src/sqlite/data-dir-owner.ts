import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '@el/platform';

/** Who holds a data directory: written beside the lock by its holder, read by whoever is refused. */
interface Owner {
  readonly pid: number;
  readonly process: string;
  readonly since: string;
}

export interface DataDirClaim {
  readonly dir: string;
  release(): void;
}

const LOCK = 'owner.lock';
/** The connections that hold the locks: referenced here for the life of the process (a collected connection would let go). */
const held = new Set<Database.Database>();
const OWNER = 'owner.json';

/**
 * Makes this process the one owner of an embedded data directory: a second
 * embedded process on the same DATA_DIR would run a second projector, audit
 * log and enforcement snapshot writer over the same files. The claim is an
 * exclusive SQLite lock (an OS file lock), so it dies with its process — a
 * process killed with SIGKILL leaves nothing to clean up. A directory that
 * cannot be created or written, or one that another process holds, stops the
 * start with a message that names DATA_DIR.
 */
export function claimDataDir(dataDir: string, process_: string): DataDirClaim {
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    throw new ConfigError([{ variable: 'DATA_DIR', message: `${dir} cannot be created or written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give a directory this process may write` }]);
  }
  const db = new Database(join(dir, LOCK), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the file's exclusive lock; in EXCLUSIVE locking mode it is kept until the connection closes.
    db.exec('CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY)');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    let holder = 'another process';
    try {
      const o = JSON.parse(readFileSync(join(dir, OWNER), 'utf8')) as Owner;
      holder = `${o.process} (pid ${o.pid}, since ${o.since})`;
    } catch {
      /* the holder has not written who it is yet */
    }
    throw new ConfigError([{ variable: 'DATA_DIR', message: `${dir} is in use by ${holder}: stop it, or give this process its own DATA_DIR` }]);
  }
  writeFileSync(join(dir, OWNER), JSON.stringify({ pid: process.pid, process: process_, since: new Date().toISOString() } satisfies Owner));
  held.add(db);
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      held.delete(db);
      db.close();
    },
  };
}
