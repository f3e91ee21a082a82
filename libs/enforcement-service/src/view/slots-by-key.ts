import { NumberColumn } from './chunked-column';
import { doubled, emptyShards, full, place, SHARD_BITS, SHARDS } from './int-hash-shards';

/**
 * An index from integer keys (hashes) to sets of slots, in typed arrays only: the keys and their
 * heads in open-addressing tables (linear probing, split 1,024 ways by the key's low bits so that
 * growing rehashes a 1,024th at a time), and keys with more than one slot as chains through a pool
 * of nodes. A head is 0 for an empty place, slot + 1 for a key with one slot (most users hold one
 * seat), and −(node + 1) for a chain. Ten million entitlements' users kept in JS Maps were 20
 * million entries on the heap (about 1 GB the collector marked); here they are outside it.
 *
 * `add` takes a pair not in the index (O(1)); `delete` walks the key's chain (O(its slots)).
 */
export class SlotsByKey {
  private readonly shards = emptyShards();
  private readonly keys = this.shards.keys;
  private readonly heads = this.shards.values;
  private readonly counts = this.shards.counts;
  private count = 0;
  private readonly nodeSlot = new NumberColumn((n) => new Int32Array(n));
  private readonly nodeNext = new NumberColumn((n) => new Int32Array(n));
  private nodes = 0;
  private freeNode = -1;

  /** Keys with at least one slot. */
  get size(): number {
    return this.count;
  }

  /** The key's slots, in no particular order (none: empty). */
  get(key: number): number[] {
    const shard = key & (SHARDS - 1);
    const i = this.find(shard, key);
    if (i < 0) return [];
    const head = this.heads[shard]![i]!;
    if (head > 0) return [head - 1];
    const slots: number[] = [];
    for (let n = -head - 1; n >= 0; n = this.nodeNext.get(n)) slots.push(this.nodeSlot.get(n));
    return slots;
  }

  /** Adds `slot` to the key's slots; the pair must not be in the index. */
  add(key: number, slot: number): void {
    const shard = key & (SHARDS - 1);
    const i = this.find(shard, key);
    if (i >= 0) {
      const heads = this.heads[shard]!;
      const head = heads[i]!;
      const rest = head > 0 ? this.node(head - 1, -1) : -head - 1;
      heads[i] = -(this.node(slot, rest) + 1);
      return;
    }
    if (full(this.counts[shard]!, this.heads[shard]!.length)) [this.keys[shard], this.heads[shard]] = doubled(this.keys[shard]!, this.heads[shard]!);
    place(this.keys[shard]!, this.heads[shard]!, key, slot + 1);
    this.counts[shard]! += 1;
    this.count += 1;
  }

  /** Takes `slot` from the key's slots (nothing when it is not there). */
  delete(key: number, slot: number): void {
    const shard = key & (SHARDS - 1);
    const i = this.find(shard, key);
    if (i < 0) return;
    const heads = this.heads[shard]!;
    const head = heads[i]!;
    if (head > 0) {
      if (head - 1 === slot) this.remove(shard, i);
      return;
    }
    let first = -head - 1;
    for (let n = first, previous = -1; n >= 0; previous = n, n = this.nodeNext.get(n)) {
      if (this.nodeSlot.get(n) !== slot) continue;
      const next = this.nodeNext.get(n);
      if (previous < 0) first = next;
      else this.nodeNext.set(previous, next);
      this.release(n);
      break;
    }
    if (this.nodeNext.get(first) < 0) {
      // One slot left: a head again, not a chain.
      heads[i] = this.nodeSlot.get(first) + 1;
      this.release(first);
    } else heads[i] = -(first + 1);
  }

  /** The key's place in its shard, or −1. */
  private find(shard: number, key: number): number {
    const keys = this.keys[shard]!;
    const heads = this.heads[shard]!;
    const mask = heads.length - 1;
    for (let i = (key >>> SHARD_BITS) & mask; ; i = (i + 1) & mask) {
      if (heads[i] === 0) return -1;
      if (keys[i] === key) return i;
    }
  }

  /** Empties place `i` of a shard, moving back the places after it that probed past it. */
  private remove(shard: number, i: number): void {
    const keys = this.keys[shard]!;
    const heads = this.heads[shard]!;
    const mask = heads.length - 1;
    for (let j = (i + 1) & mask; heads[j] !== 0; j = (j + 1) & mask) {
      const home = (keys[j]! >>> SHARD_BITS) & mask;
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      keys[i] = keys[j]!;
      heads[i] = heads[j]!;
      i = j;
    }
    heads[i] = 0;
    keys[i] = 0;
    this.counts[shard]! -= 1;
    this.count -= 1;
  }

  private node(slot: number, next: number): number {
    let n = this.freeNode;
    if (n >= 0) this.freeNode = this.nodeNext.get(n);
    else {
      n = this.nodes++;
      this.nodeSlot.ensure(n);
      this.nodeNext.ensure(n);
    }
    this.nodeSlot.set(n, slot);
    this.nodeNext.set(n, next);
    return n;
  }

  private release(n: number): void {
    this.nodeNext.set(n, this.freeNode);
    this.freeNode = n;
  }
}
