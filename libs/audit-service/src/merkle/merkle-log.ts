import { EMPTY_ROOT, HASH_SIZE, consistencyPath, inclusionPath, nodeHash, split, type SubtreeHash } from './merkle';

/** One level of the tree: the hashes of its complete, aligned subtrees of 2^level leaves, 32 bytes each. */
class Level {
  private buf = Buffer.allocUnsafe(HASH_SIZE * 1024);
  count = 0;

  push(hash: Uint8Array): void {
    if ((this.count + 1) * HASH_SIZE > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.count * HASH_SIZE);
      this.buf = bigger;
    }
    this.buf.set(hash, this.count * HASH_SIZE);
    this.count += 1;
  }

  /** A view of the stored hash (do not keep it across appends). */
  at(i: number): Buffer {
    return this.buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }
}

/**
 * An append-only RFC 6962 tree kept in memory as the hashes of every complete,
 * aligned subtree (about two hashes per leaf: 64 MB for a million events).
 * The subtrees the RFC's recursion asks for are all such complete subtrees or
 * split into O(log n) of them, so a root of any past size, an inclusion proof
 * or a consistency proof costs O(log² n) hashes at most, never a pass over
 * the leaves.
 */
export class MerkleLog {
  private readonly levels: Level[] = [new Level()];

  get size(): number {
    return this.levels[0]!.count;
  }

  /** The leaf hash at `index` (a copy). */
  leaf(index: number): Buffer {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`leaf ${index} is outside 0..${this.size - 1}`);
    return Buffer.from(this.levels[0]!.at(index));
  }

  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE) throw new TypeError(`a leaf hash has ${HASH_SIZE} bytes`);
    this.levels[0]!.push(leafHash);
    // Each completed pair at a level makes a node one level up.
    for (let l = 0; this.levels[l]!.count % 2 === 0; l++) {
      const level = this.levels[l]!;
      const parent = nodeHash(level.at(level.count - 2), level.at(level.count - 1));
      if (!this.levels[l + 1]) this.levels.push(new Level());
      this.levels[l + 1]!.push(parent);
    }
  }

  /** MTH(D[from, to)) from the stored complete subtrees. */
  private readonly mth: SubtreeHash = (from, to) => {
    const n = to - from;
    if (n === 0) return EMPTY_ROOT;
    // A complete subtree aligned on its size is stored.
    if ((n & (n - 1)) === 0 && from % n === 0) return Buffer.from(this.levels[Math.log2(n)]!.at(from / n));
    const k = split(n);
    return nodeHash(this.mth(from, from + k), this.mth(from + k, to));
  };

  /** The root of the tree of the first `size` leaves (default: all). */
  root(size = this.size): Buffer {
    this.checkSize(size, 0);
    return this.mth(0, size);
  }

  inclusionProof(index: number, size = this.size): Buffer[] {
    this.checkSize(size, 1);
    return inclusionPath(this.mth, index, size);
  }

  consistencyProof(first: number, second = this.size): Buffer[] {
    this.checkSize(second, 0);
    return consistencyPath(this.mth, first, second);
  }

  private checkSize(size: number, min: number): void {
    if (!Number.isInteger(size) || size < min || size > this.size) throw new RangeError(`tree size ${size} is outside ${min}..${this.size}`);
  }
}
