import { createHash } from 'node:crypto';
import { consistencyProof, inclusionProof, leafHash, rootOf, verifyConsistency, verifyInclusion } from './merkle';
import { MerkleLog } from './merkle-log';

const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));

describe('MerkleLog (the stored complete subtrees)', () => {
  it('gives the same roots and proofs as the RFC definitions over the leaves, for every size, index and pair of sizes up to 70', () => {
    const log = new MerkleLog();
    for (const l of leaves) log.append(l);
    for (let size = 0; size <= leaves.length; size++) {
      const root = log.root(size);
      expect(root.equals(rootOf(leaves, size))).toBe(true);
      for (let i = 0; i < size; i++) {
        const proof = log.inclusionProof(i, size);
        expect(proof).toEqual(inclusionProof(leaves, i, size));
        expect(verifyInclusion(leaves[i], i, size, proof, root)).toBe(true);
      }
      for (let first = 0; first <= size; first++) {
        const proof = log.consistencyProof(first, size);
        expect(proof).toEqual(consistencyProof(leaves, first, size));
        expect(verifyConsistency(first, size, log.root(first), root, proof)).toBe(true);
      }
    }
  });

  it('answers roots of past sizes while it grows, and refuses sizes it does not have', () => {
    const log = new MerkleLog();
    const roots: Buffer[] = [log.root()];
    for (const l of leaves) {
      log.append(l);
      roots.push(log.root());
    }
    roots.forEach((r, size) => expect(log.root(size).equals(r)).toBe(true));
    expect(() => log.root(71)).toThrow(RangeError);
    expect(() => log.inclusionProof(70, 70)).toThrow(RangeError);
    expect(() => log.consistencyProof(5, 71)).toThrow(RangeError);
    expect(() => log.append(createHash('sha1').digest())).toThrow(TypeError);
  });

  it('grows past its first buffer (thousands of leaves) with the root the definition gives', () => {
    const many = Array.from({ length: 5000 }, (_, i) => leafHash(Buffer.from(String(i))));
    const log = new MerkleLog();
    for (const l of many) log.append(l);
    expect(log.root().equals(rootOf(many))).toBe(true);
    expect(log.root(4097).equals(rootOf(many, 4097))).toBe(true);
    expect(log.leaf(4999).equals(many[4999]!)).toBe(true);
  });
});
