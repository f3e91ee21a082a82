import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VIEW_SNAPSHOT_VERSION, type ViewSnapshot } from './enforcement-view';

export type SnapshotLoad = { readonly kind: 'loaded'; readonly snapshot: ViewSnapshot } | { readonly kind: 'none' } | { readonly kind: 'unusable'; readonly reason: string };

/** Where the view's input stands now: what a snapshot's offsets must agree with to be resumed from. */
export interface FeedPosition {
  readonly topic: string;
  readonly scope: string;
  /** The next offset each partition will get. */
  readonly endOffsets: Readonly<Record<number, string>>;
}

/**
 * The view's snapshot on disk: one JSON file, replaced atomically (write to a
 * temporary file, fsync, rename), so a crash mid-write leaves the previous
 * snapshot. A snapshot is resumed from only where its offsets mean something:
 * the same topic in the same scope (not one taken with BUS=kafka when the
 * process now runs BUS=inprocess, or from another Kafka cluster), the same
 * partitions, and no offset past the end of its partition. Anything else is
 * unusable, which is never fatal: the view is rebuilt from the beginning of
 * the topic instead.
 */
export class SnapshotFile {
  constructor(readonly path: string) {}

  load(feed: FeedPosition): SnapshotLoad {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
      return { kind: 'unusable', reason: `cannot read ${this.path}: ${(err as Error).message}` };
    }
    let s: ViewSnapshot;
    try {
      s = JSON.parse(text) as ViewSnapshot;
    } catch (err) {
      return { kind: 'unusable', reason: `${this.path} is not JSON: ${(err as Error).message}` };
    }
    // Older versions are rebuilt, not migrated: a version 2 view applied changes past its position and knew no catalog.
    if (s?.version !== VIEW_SNAPSHOT_VERSION) return { kind: 'unusable', reason: `${this.path} has version ${JSON.stringify(s?.version)}, this view writes ${VIEW_SNAPSHOT_VERSION}` };
    if (s.topic !== feed.topic) return { kind: 'unusable', reason: `${this.path} was taken from topic ${s.topic}, this view reads ${feed.topic}` };
    if (s.scope !== feed.scope) return { kind: 'unusable', reason: `${this.path} was taken from ${s.scope}, this view reads ${feed.scope} (the bus or the broker changed)` };
    if (!Array.isArray(s.entitlements) || !Array.isArray(s.pending) || !Array.isArray(s.pendingCatalogs) || s.catalog === undefined || typeof s.offsets !== 'object' || s.offsets === null || !Number.isInteger(s.position)) {
      return { kind: 'unusable', reason: `${this.path} is incomplete` };
    }
    const partitions = Object.keys(feed.endOffsets).length;
    if (Object.keys(s.offsets).some((p) => feed.endOffsets[Number(p)] === undefined) || (s.watermarks?.partitions || partitions) !== partitions) {
      return { kind: 'unusable', reason: `${this.path} was taken from ${s.watermarks?.partitions} partitions, ${feed.topic} has ${partitions}` };
    }
    for (const [p, next] of Object.entries(s.offsets)) {
      if (BigInt(next) > BigInt(feed.endOffsets[Number(p)]!)) {
        return { kind: 'unusable', reason: `${this.path} resumes partition ${p} at offset ${next}, past its end ${feed.endOffsets[Number(p)]} (the topic was recreated or the log replaced)` };
      }
    }
    return { kind: 'loaded', snapshot: s };
  }

  async save(snapshot: ViewSnapshot): Promise<number> {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const text = JSON.stringify(snapshot);
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return text.length;
  }
}
