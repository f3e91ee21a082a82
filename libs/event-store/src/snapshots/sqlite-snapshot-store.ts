import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** A stream's state folded up to `revision`, by the fold of `version`. */
export interface StreamSnapshot<S = unknown> {
  readonly stream: string;
  /** The fold that made it (its evolve and the upcasters in force): a snapshot of another version is not used. */
  readonly version: string;
  /** The revision and position of the last event folded into it. */
  readonly revision: number;
  readonly position: number;
  readonly state: S;
}

/**
 * Snapshots of long streams, so a command reads the newest snapshot and the
 * events after it instead of the whole stream. A cache of what the log says,
 * never a source of truth: kept in a file of its own (beside the event store,
 * in DATA_DIR), written without waiting for the disk, and a snapshot that is
 * missing, unreadable or of another fold version is simply not used (the
 * stream is folded from its start and a new one written). Several processes
 * may share the file (SQLite WAL; a write that finds it busy is skipped).
 */
export class SqliteSnapshotStore {
  private readonly db: Database.Database;
  private readonly stmt: { load: Database.Statement; save: Database.Statement; count: Database.Statement };

  private constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = OFF');
    // A busy file costs a skipped snapshot, never a waiting command.
    this.db.pragma('busy_timeout = 50');
    this.db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
      stream   TEXT    PRIMARY KEY,
      version  TEXT    NOT NULL,
      revision INTEGER NOT NULL,
      position INTEGER NOT NULL,
      state    TEXT    NOT NULL,
      taken_at TEXT    NOT NULL
    )`);
    this.stmt = {
      load: this.db.prepare('SELECT version, revision, position, state FROM snapshots WHERE stream = ?'),
      // A newer snapshot is never replaced by an older one (two processes folding the same stream).
      save: this.db.prepare(
        `INSERT INTO snapshots (stream, version, revision, position, state, taken_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (stream) DO UPDATE SET version = excluded.version, revision = excluded.revision, position = excluded.position, state = excluded.state, taken_at = excluded.taken_at
         WHERE excluded.revision > snapshots.revision OR excluded.version <> snapshots.version`,
      ),
      count: this.db.prepare('SELECT COUNT(*) FROM snapshots').pluck(),
    };
  }

  static open(path: string): SqliteSnapshotStore {
    return new SqliteSnapshotStore(path);
  }

  /** The stream's snapshot made by fold `version`; null when there is none (or only one of another version). */
  load<S>(stream: string, version: string): StreamSnapshot<S> | null {
    const row = this.stmt.load.get(stream) as { version: string; revision: number; position: number; state: string } | undefined;
    if (!row || row.version !== version) return null;
    return { stream, version, revision: row.revision, position: row.position, state: JSON.parse(row.state) as S };
  }

  /** Keeps `snapshot` unless a newer one of the same version is there; false when the file was busy (nothing written). */
  save(snapshot: StreamSnapshot, takenAt: string = new Date().toISOString()): boolean {
    try {
      this.stmt.save.run(snapshot.stream, snapshot.version, snapshot.revision, snapshot.position, JSON.stringify(snapshot.state), takenAt);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
      throw err;
    }
  }

  /** How many streams have a snapshot (for /health). */
  count(): number {
    return this.stmt.count.get() as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
