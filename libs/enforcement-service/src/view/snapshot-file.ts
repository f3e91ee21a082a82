import { createReadStream, mkdirSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { nextTurn } from '@el/platform';
import { VIEW_SNAPSHOT_VERSION, type ViewSnapshotHeader } from './enforcement-view';

/**
 * A snapshot as found: its header, and its body's lines to read one at a time, parsed (`lines` throws
 * SnapshotIncomplete when the file ends before its last line says it does).
 */
export type SnapshotLoad =
  | { readonly kind: 'loaded'; readonly header: ViewSnapshotHeader; readonly lines: AsyncIterable<unknown> }
  | { readonly kind: 'none' }
  | { readonly kind: 'unusable'; readonly reason: string };

export class SnapshotIncomplete extends Error {
  override readonly name = 'SnapshotIncomplete';
}

/** Lines per write call (each chunk is made without yielding, so it stays small). */
const LINES_PER_WRITE = 2_000;
/**
 * How long reading goes on before it gives the event loop a turn. Bounded by time, not lines: a line
 * costs about 6 µs once the code is optimised, ten times that before (the first thousand lines held
 * the loop 81 ms), and garbage collection lands in whichever turn it lands in.
 */
const MS_PER_TURN = 5;

/** Where the view's input stands now: what a snapshot's offsets must agree with to be resumed from. */
export interface FeedPosition {
  readonly topic: string;
  readonly scope: string;
  /** The next offset each partition the view reads will get. */
  readonly endOffsets: Readonly<Record<number, string>>;
  /** The topic's partitions (default: as many as endOffsets names). */
  readonly partitions?: number;
  /** The partitions the view holds (VIEW_PARTITIONS); null or absent: every one. */
  readonly holds?: readonly number[] | null;
}

/**
 * The view's snapshot on disk, a stream of JSON lines: the header (where the
 * view stands), the view's own lines (EnforcementView.lines: its entitlements
 * and the plan profiles they share), and a last line with how many there are.
 * Written and read a chunk at a time, so neither makes one string of the whole
 * view (at a million entitlements that failed: V8's longest string) nor holds
 * the event loop for long. Replaced atomically (write to a temporary file,
 * fsync, rename), so a crash mid-write leaves the previous snapshot. A snapshot is resumed from only where its offsets mean something:
 * the same topic in the same scope (not one taken with BUS=kafka when the
 * process now runs BUS=inprocess, or from another Kafka cluster), the same
 * partitions, and no offset past the end of its partition. Anything else is
 * unusable, which is never fatal: the view is rebuilt from the beginning of
 * the topic instead.
 */
export class SnapshotFile {
  constructor(readonly path: string) {}

  async load(feed: FeedPosition): Promise<SnapshotLoad> {
    let stream: ReturnType<typeof createReadStream>;
    try {
      stream = createReadStream(this.path, { encoding: 'utf8', highWaterMark: 1 << 18 });
      await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
      return { kind: 'unusable', reason: `cannot read ${this.path}: ${(err as Error).message}` };
    }
    const lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
    const first = await lines.next().catch((err: Error) => ({ done: true as const, value: undefined, error: err }));
    let s: ViewSnapshotHeader & { readonly format?: unknown };
    try {
      if (first.done || first.value === undefined) throw new Error('the file is empty');
      s = JSON.parse(first.value) as typeof s;
    } catch (err) {
      stream.destroy();
      return { kind: 'unusable', reason: `${this.path} does not start with a snapshot header: ${(err as Error).message}` };
    }
    const unusable = this.check(s, feed);
    if (unusable) {
      stream.destroy();
      return { kind: 'unusable', reason: unusable };
    }
    const path = this.path;
    async function* body(): AsyncGenerator<unknown> {
      let count = 0;
      let turnStarted = performance.now();
      try {
        for (;;) {
          const next = await lines.next();
          if (next.done) throw new SnapshotIncomplete(`${path} ends after ${count} lines, before its last line`);
          const line = JSON.parse(next.value) as unknown;
          if (line !== null && typeof line === 'object' && !Array.isArray(line) && (line as { end?: unknown }).end === true) {
            const said = (line as { lines?: unknown }).lines;
            if (said !== count) throw new SnapshotIncomplete(`${path} holds ${count} lines, its last line says ${String(said)}`);
            return;
          }
          count += 1;
          yield line;
          // Lines buffered by the reader are handed out in microtasks: let timers and I/O in between.
          // The clock at every line: one line (an entitlement of 100,000 users) can be a megabyte.
          if (performance.now() - turnStarted >= MS_PER_TURN) {
            await nextTurn();
            turnStarted = performance.now();
          }
        }
      } finally {
        stream.destroy();
      }
    }
    return { kind: 'loaded', header: s, lines: body() };
  }

  /** Why a header cannot be resumed from here (null: it can). */
  private check(s: ViewSnapshotHeader, feed: FeedPosition): string | null {
    // Older versions are rebuilt, not migrated: a version 2 view applied changes past its position and knew no catalog; 3 was one JSON document.
    if (s?.version !== VIEW_SNAPSHOT_VERSION) return `${this.path} has version ${JSON.stringify(s?.version)}, this view writes ${VIEW_SNAPSHOT_VERSION}`;
    if (s.topic !== feed.topic) return `${this.path} was taken from topic ${s.topic}, this view reads ${feed.topic}`;
    if (s.scope !== feed.scope) return `${this.path} was taken from ${s.scope}, this view reads ${feed.scope} (the bus or the broker changed)`;
    if (!Array.isArray(s.pending) || !Array.isArray(s.pendingCatalogs) || s.catalog === undefined || typeof s.offsets !== 'object' || s.offsets === null || !Number.isInteger(s.position)) {
      return `${this.path} is incomplete`;
    }
    const partitions = feed.partitions ?? Object.keys(feed.endOffsets).length;
    const holds = JSON.stringify(feed.holds ?? null);
    if (JSON.stringify(s.holds ?? null) !== holds) return `${this.path} holds partitions ${JSON.stringify(s.holds ?? 'all')}, this view holds ${feed.holds ? JSON.stringify(feed.holds) : 'all'} (VIEW_PARTITIONS changed)`;
    if (Object.keys(s.offsets).some((p) => feed.endOffsets[Number(p)] === undefined) || (s.watermarks?.partitions || partitions) !== partitions) {
      return `${this.path} was taken from ${s.watermarks?.partitions} partitions, ${feed.topic} has ${partitions}`;
    }
    for (const [p, next] of Object.entries(s.offsets)) {
      if (BigInt(next) > BigInt(feed.endOffsets[Number(p)]!)) {
        return `${this.path} resumes partition ${p} at offset ${next}, past its end ${feed.endOffsets[Number(p)]} (the topic was recreated or the log replaced)`;
      }
    }
    return null;
  }

  /**
   * Writes `header`, then every line `lines` hands out (JSON text, read while the writes go on: see
   * EnforcementView.snapshotHeader), a chunk of lines per write, then their count. Returns the bytes
   * and lines written.
   */
  async save(header: ViewSnapshotHeader, lines: Iterable<string>): Promise<{ bytes: number; lines: number }> {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const file = await open(tmp, 'w', 0o600);
    let bytes = 0;
    let count = 0;
    try {
      const write = async (text: string) => {
        bytes += Buffer.byteLength(text);
        await file.write(text);
      };
      await write(`${JSON.stringify(header)}\n`);
      let chunk: string[] = [];
      for (const line of lines) {
        chunk.push(line);
        count += 1;
        if (chunk.length >= LINES_PER_WRITE) {
          await write(`${chunk.join('\n')}\n`);
          chunk = [];
        }
      }
      if (chunk.length > 0) await write(`${chunk.join('\n')}\n`);
      await write(`${JSON.stringify({ end: true, lines: count })}\n`);
      await file.sync();
    } catch (err) {
      await file.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await file.close();
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return { bytes, lines: count };
  }
}
