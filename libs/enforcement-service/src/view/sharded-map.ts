import { randomBytes } from 'node:crypto';

const SHARDS = 1024;

/**
 * A Map split in 1,024 by a hash of the key. A JS Map grows by rehashing every entry at once: at a
 * million entries that holds the event loop about 100 ms, and one Map holds at most 2^24 entries.
 * Split, each rehash is a 1,024th as long (at ten million entitlements, 64 shards of the users'
 * index still rehashed 300,000 entries each, one after another: 50 ms holds for six seconds), and
 * the table holds 1,024 times as many. The empty shards cost about 1 MB.
 */
export class ShardedMap<V, K extends string | number = string> {
  private readonly shards: Map<K, V>[] = Array.from({ length: SHARDS }, () => new Map<K, V>());
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    return this.shards[shardOf(key)]!.get(key);
  }

  set(key: K, value: V): void {
    const shard = this.shards[shardOf(key)]!;
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
  }

  delete(key: K): boolean {
    const gone = this.shards[shardOf(key)]!.delete(key);
    if (gone) this.count -= 1;
    return gone;
  }
}

/** A key's shard: a number key's low bits (it is a hash already), a string's `stringHash`. */
function shardOf(key: string | number): number {
  return (typeof key === 'number' ? key : stringHash(key)) & (SHARDS - 1);
}

/**
 * This process's hash seed: the indexes are rebuilt at every start (none is stored), and ids chosen
 * to collide in one process's tables do not collide in another's.
 */
const SEED = randomBytes(4).readInt32LE(0);

/** FNV-1a over the string's UTF-16 code units from a per-process seed, its high half folded into the low (32 bits, signed). */
export function stringHash(key: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 16);
}
