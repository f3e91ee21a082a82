/** No string: what a column holds where there is none. */
export const NO_REF = -1;

/** A record's header: its byte length (u32) and its owner (i32, -1: none). */
const HEADER = 8;

/** Who holds an arena's strings, so that it can move them: `refOf(owner)` is the owner's current reference. */
export interface ArenaOwners {
  refOf(owner: number): number;
  moved(owner: number, ref: number): void;
}

/**
 * Strings kept as UTF-8 bytes in 1 MiB buffers, outside the JS heap, each named by a number (its
 * reference). Ten million entitlements kept their ids, customers and users as some 25 million
 * small strings: the garbage collector marked and moved them, and at that size its pauses held the
 * event loop 60–150 ms while a snapshot was read back. Here they are a few hundred buffers it never
 * looks inside.
 *
 * A string too long for a buffer's quarter, or one UTF-8 cannot carry (a lone surrogate), is kept as
 * it is, under a negative reference. Strings can be freed when the arena knows their owners: a
 * buffer left less than a quarter full moves what is left of it to the newest one (updating each
 * owner through `owners.moved`) and is dropped, so freed bytes are not kept for long.
 */
export class StringArena {
  private readonly chunks: (Buffer | undefined)[] = [];
  /** By chunk: bytes in use (records not freed), and the end of what was written. */
  private readonly live: number[] = [];
  private readonly ends: number[] = [];
  private readonly spare: number[] = [];
  private current = -1;
  private readonly kept = new Map<number, string>();
  private nextKept = -2;
  private readonly longest: number;

  constructor(
    private readonly owners: ArenaOwners | null = null,
    private readonly chunkBytes = 1 << 20,
  ) {
    this.longest = Math.floor(chunkBytes / 12); // UTF-8 is at most 3 bytes a code unit: a quarter of the chunk
  }

  /** Bytes held in buffers (the strings kept as strings not counted). */
  get bytes(): number {
    let n = 0;
    for (const c of this.chunks) if (c) n += c.length;
    return n;
  }

  /** Keeps `s` (for `owner`, when the arena frees), giving its reference. */
  add(s: string, owner = -1): number {
    if (s.length > this.longest || !isWellFormed(s)) {
      const ref = this.nextKept--;
      this.kept.set(ref, s);
      return ref;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    const chunk = this.room(HEADER + bytes);
    const at = this.ends[this.current]!;
    chunk.writeUInt32LE(bytes, at);
    chunk.writeInt32LE(owner, at + 4);
    chunk.write(s, at + HEADER, bytes, 'utf8');
    this.ends[this.current] = at + HEADER + bytes;
    this.live[this.current]! += HEADER + bytes;
    return this.current * this.chunkBytes + at;
  }

  get(ref: number): string {
    if (ref < NO_REF) return this.kept.get(ref)!;
    const chunk = this.chunks[Math.floor(ref / this.chunkBytes)]!;
    const at = ref % this.chunkBytes;
    return chunk.toString('utf8', at + HEADER, at + HEADER + chunk.readUInt32LE(at));
  }

  /** Whether the string at `ref` is `s` (decoded only when its byte length allows it). */
  equals(ref: number, s: string): boolean {
    if (ref < NO_REF) return this.kept.get(ref) === s;
    const chunk = this.chunks[Math.floor(ref / this.chunkBytes)]!;
    const at = ref % this.chunkBytes;
    const bytes = chunk.readUInt32LE(at);
    if (bytes !== s.length) return bytes > s.length && bytes <= 3 * s.length && this.get(ref) === s;
    // As many bytes as code units: equal only if `s` is ASCII (else its UTF-8 is longer), compared
    // byte by code unit without decoding. ("é" is two bytes, C3 A9: the same count as "Ã©".)
    for (let i = 0, b = at + HEADER; i < bytes; i++, b++) {
      const unit = s.charCodeAt(i);
      if (unit >= 0x80 || chunk[b] !== unit) return false;
    }
    return true;
  }

  /**
   * Frees the string at `ref`. Its owner must no longer name it (`owners.refOf` answers another
   * reference) before this is called: a buffer this leaves less than a quarter full is emptied now.
   */
  free(ref: number): void {
    if (ref < NO_REF) {
      this.kept.delete(ref);
      return;
    }
    const c = Math.floor(ref / this.chunkBytes);
    const chunk = this.chunks[c]!;
    this.live[c]! -= HEADER + chunk.readUInt32LE(ref % this.chunkBytes);
    if (this.owners && c !== this.current && this.live[c]! < this.chunkBytes / 4) this.empty(c);
  }

  /** Moves the strings still owned in chunk `c` to the current chunk, and drops it (only an arena with owners frees). */
  private empty(c: number): void {
    const owners = this.owners!;
    const chunk = this.chunks[c]!;
    const end = this.ends[c]!;
    for (let at = 0; at < end; ) {
      const size = HEADER + chunk.readUInt32LE(at);
      const owner = chunk.readInt32LE(at + 4);
      const ref = c * this.chunkBytes + at;
      if (owner >= 0 && owners.refOf(owner) === ref) {
        const target = this.room(size);
        const to = this.ends[this.current]!;
        chunk.copy(target, to, at, at + size);
        this.ends[this.current] = to + size;
        this.live[this.current]! += size;
        owners.moved(owner, this.current * this.chunkBytes + to);
      }
      at += size;
    }
    this.chunks[c] = undefined;
    this.live[c] = 0;
    this.ends[c] = 0;
    this.spare.push(c);
  }

  /** The current chunk, a new one when it lacks `size` bytes (a record never spans two). */
  private room(size: number): Buffer {
    if (this.current >= 0 && this.ends[this.current]! + size <= this.chunkBytes) return this.chunks[this.current]!;
    const previous = this.current;
    const c = this.spare.pop() ?? this.chunks.length;
    this.chunks[c] = Buffer.allocUnsafeSlow(this.chunkBytes);
    this.live[c] = 0;
    this.ends[c] = 0;
    this.current = c;
    // The chunk left behind may be mostly freed already.
    if (this.owners && previous >= 0 && this.live[previous]! < this.chunkBytes / 4) this.empty(previous);
    return this.chunks[c]!;
  }
}

function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}
