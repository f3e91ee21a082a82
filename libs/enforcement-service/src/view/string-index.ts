import { stringHash } from './sharded-map';

const SHARD_BITS = 10;
const SHARDS = 1 << SHARD_BITS;
const FIRST = 16;

/**
 * A unique index from strings to numbers (0 … 2^31 − 2) that keeps no string: the hash of each key
 * and its number, in typed arrays (open addressing, linear probing), split 1,024 ways by the hash so
 * that growing rehashes a 1,024th at a time. A key is recognised by its hash and confirmed by
 * `matches(n, key)`, which asks whoever keeps the strings (a StringArena). Entries are never deleted.
 */
export class StringIndex {
  private readonly hashes: Int32Array[] = Array.from({ length: SHARDS }, () => new Int32Array(FIRST));
  /** Number + 1 (0: an empty place). */
  private readonly values: Int32Array[] = Array.from({ length: SHARDS }, () => new Int32Array(FIRST));
  private readonly counts = new Int32Array(SHARDS);
  private count = 0;

  constructor(
    private readonly matches: (n: number, key: string) => boolean,
    private readonly hash: (key: string) => number = stringHash,
  ) {}

  get size(): number {
    return this.count;
  }

  get(key: string): number | undefined {
    const h = this.hash(key) | 0;
    const shard = h & (SHARDS - 1);
    const hashes = this.hashes[shard]!;
    const values = this.values[shard]!;
    const mask = values.length - 1;
    for (let i = (h >>> SHARD_BITS) & mask; ; i = (i + 1) & mask) {
      const v = values[i]!;
      if (v === 0) return undefined;
      if (hashes[i] === h && this.matches(v - 1, key)) return v - 1;
    }
  }

  /** Adds `key` → `n`; the key must not be in the index. */
  add(key: string, n: number): void {
    const h = this.hash(key) | 0;
    const shard = h & (SHARDS - 1);
    if ((this.counts[shard]! + 1) * 3 > this.values[shard]!.length * 2) this.grow(shard);
    place(this.hashes[shard]!, this.values[shard]!, h, n + 1);
    this.counts[shard]! += 1;
    this.count += 1;
  }

  private grow(shard: number): void {
    const oldHashes = this.hashes[shard]!;
    const oldValues = this.values[shard]!;
    const hashes = new Int32Array(oldValues.length * 2);
    const values = new Int32Array(oldValues.length * 2);
    for (let i = 0; i < oldValues.length; i++) if (oldValues[i] !== 0) place(hashes, values, oldHashes[i]!, oldValues[i]!);
    this.hashes[shard] = hashes;
    this.values[shard] = values;
  }
}

function place(hashes: Int32Array, values: Int32Array, h: number, v: number): void {
  const mask = values.length - 1;
  let i = (h >>> SHARD_BITS) & mask;
  while (values[i] !== 0) i = (i + 1) & mask;
  hashes[i] = h;
  values[i] = v;
}
