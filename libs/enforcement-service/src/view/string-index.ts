import { doubled, emptyShards, full, place, SHARD_BITS, SHARDS } from './int-hash-shards';
import { stringHash } from './sharded-map';

/**
 * A unique index from strings to numbers (0 … 2^31 − 2) that keeps no string: the hash of each key
 * and its number, in typed arrays (open addressing, linear probing), split 1,024 ways by the hash so
 * that growing rehashes a 1,024th at a time. A key is recognised by its hash and confirmed by
 * `matches(n, key)`, which asks whoever keeps the strings (a StringArena). Entries are never deleted.
 */
export class StringIndex {
  private readonly shards = emptyShards();
  private readonly hashes = this.shards.keys;
  /** Number + 1 (0: an empty place). */
  private readonly values = this.shards.values;
  private readonly counts = this.shards.counts;
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
    if (full(this.counts[shard]!, this.values[shard]!.length)) [this.hashes[shard], this.values[shard]] = doubled(this.hashes[shard]!, this.values[shard]!);
    place(this.hashes[shard]!, this.values[shard]!, h, n + 1);
    this.counts[shard]! += 1;
    this.count += 1;
  }
}
