import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ViewSnapshot } from './enforcement-view';

export type SnapshotLoad = { readonly kind: 'loaded'; readonly snapshot: ViewSnapshot } | { readonly kind: 'none' } | { readonly kind: 'unusable'; readonly reason: string };

/**
 * The view's snapshot on disk: one JSON file, replaced atomically (write to a
 * temporary file, fsync, rename), so a crash mid-write leaves the previous
 * snapshot. An unusable snapshot is never fatal: the view is rebuilt from the
 * beginning of the topic instead.
 */
export class SnapshotFile {
  constructor(readonly path: string) {}

  load(topic: string): SnapshotLoad {
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
    if (s?.version !== 1) return { kind: 'unusable', reason: `${this.path} has an unknown version ${JSON.stringify(s?.version)}` };
    if (s.topic !== topic) return { kind: 'unusable', reason: `${this.path} was taken from topic ${s.topic}, this view reads ${topic}` };
    if (!Array.isArray(s.entitlements) || typeof s.offsets !== 'object' || !Number.isInteger(s.position)) return { kind: 'unusable', reason: `${this.path} is incomplete` };
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
