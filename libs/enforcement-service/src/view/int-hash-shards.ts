/**
 * What StringIndex and SlotsByKey share: open-addressing tables of Int32Arrays (a key, its value;
 * value 0: an empty place), split 1,024 ways by the key's low bits, probed linearly from the bits
 * above them. Growing one shard rehashes a 1,024th of the table.
 */
export const SHARD_BITS = 10;
export const SHARDS = 1 << SHARD_BITS;
/** Places in a shard at first. */
const FIRST = 16;

/** A shard's tables (keys, values), each of the shards. */
export function emptyShards(): { keys: Int32Array[]; values: Int32Array[]; counts: Int32Array } {
  return { keys: Array.from({ length: SHARDS }, () => new Int32Array(FIRST)), values: Array.from({ length: SHARDS }, () => new Int32Array(FIRST)), counts: new Int32Array(SHARDS) };
}

/** Whether a shard holding `count` entries needs more places for one more (at most two thirds full). */
export function full(count: number, places: number): boolean {
  return (count + 1) * 3 > places * 2;
}

/** Puts `value` (not 0) under `key` at the first empty place from the key's home. */
export function place(keys: Int32Array, values: Int32Array, key: number, value: number): void {
  const mask = values.length - 1;
  let i = (key >>> SHARD_BITS) & mask;
  while (values[i] !== 0) i = (i + 1) & mask;
  keys[i] = key;
  values[i] = value;
}

/** A shard's tables twice as large, holding what these hold. */
export function doubled(keys: Int32Array, values: Int32Array): [Int32Array, Int32Array] {
  const k = new Int32Array(values.length * 2);
  const v = new Int32Array(values.length * 2);
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) place(k, v, keys[i]!, values[i]!);
  return [k, v];
}
