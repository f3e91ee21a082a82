import { createHash } from 'node:crypto';
import { consistencyProof, EMPTY_ROOT, inclusionProof, leafHash, nodeHash, rootOf, verifyConsistency, verifyInclusion } from './merkle';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => Buffer.from(h, 'hex');

// The reference entries and tree heads every RFC 6962 implementation agrees on (Certificate Transparency's test data).
const ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const LEAVES = ENTRIES.map(leafHash);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('Merkle tree (RFC 6962)', () => {
  it('hashes leaves and nodes with their prefixes, and matches the reference tree heads for sizes 0..8', () => {
    expect(hex(leafHash(new Uint8Array()))).toBe(createHash('sha256').update(Uint8Array.of(0)).digest('hex'));
    expect(hex(nodeHash(LEAVES[0]!, LEAVES[1]!))).toBe(createHash('sha256').update(Buffer.concat([Uint8Array.of(1), LEAVES[0]!, LEAVES[1]!])).digest('hex'));
    expect(hex(EMPTY_ROOT)).toBe(ROOTS[0]);
    for (let n = 0; n <= 8; n++) expect([n, hex(rootOf(LEAVES, n))]).toEqual([n, ROOTS[n]]);
  });

  it('produces the reference inclusion and consistency proofs', () => {
    expect(inclusionProof(LEAVES, 0, 8).map(hex)).toEqual(['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']);
    expect(inclusionProof(LEAVES, 5, 8).map(hex)).toEqual(['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']);
    expect(consistencyProof(LEAVES, 2, 8).map(hex)).toEqual(['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']);
    expect(consistencyProof(LEAVES, 6, 8).map(hex)).toEqual(['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']);
  });

  // Every shape of the recursion: all sizes up to 70, every leaf, every pair of sizes.
  const many = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));
  const roots = Array.from({ length: many.length + 1 }, (_, n) => rootOf(many, n));

  it('verifies every inclusion proof it produces, and refuses a changed, shortened, lengthened or misplaced one', () => {
    for (let n = 1; n <= many.length; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(many, i, n);
        expect(verifyInclusion(many[i], i, n, proof, roots[n])).toBe(true);
        if (proof.length === 0) continue;
        const flipped = proof.map((p) => Buffer.from(p));
        flipped[flipped.length - 1]![7]! ^= 1;
        expect(verifyInclusion(many[i], i, n, flipped, roots[n])).toBe(false);
        expect(verifyInclusion(many[i], i, n, proof.slice(0, -1), roots[n])).toBe(false);
        expect(verifyInclusion(many[i], i, n, [...proof, Buffer.alloc(32, 0xab)], roots[n])).toBe(false);
        expect(verifyInclusion(many[(i + 1) % n], i, n, proof, roots[n])).toBe(false);
        expect(verifyInclusion(many[i], i, n, proof, roots[n - 1])).toBe(false);
      }
    }
  });

  it('verifies every consistency proof it produces between two sizes, and refuses a changed, shortened or lengthened one', () => {
    for (let second = 0; second <= many.length; second++) {
      for (let first = 0; first <= second; first++) {
        const proof = consistencyProof(many, first, second);
        expect([first, second, verifyConsistency(first, second, roots[first], roots[second], proof)]).toEqual([first, second, true]);
        if (proof.length === 0) continue;
        const flipped = proof.map((p) => Buffer.from(p));
        flipped[0]![3]! ^= 0x80;
        expect(verifyConsistency(first, second, roots[first], roots[second], flipped)).toBe(false);
        expect(verifyConsistency(first, second, roots[first], roots[second], proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(first, second, roots[first], roots[second], [...proof, Buffer.alloc(32, 0xcd)])).toBe(false);
        // A history rewritten before `first`: the old root does not fit.
        if (first > 1) expect(verifyConsistency(first, second, roots[first - 1], roots[second], proof)).toBe(false);
      }
    }
  });

  it('never throws on a malformed proof; refuses impossible requests to make one', () => {
    const root8 = unhex(ROOTS[8]!);
    expect(verifyInclusion(Buffer.alloc(31), 5, 8, inclusionProof(LEAVES, 5, 8), root8)).toBe(false);
    expect(verifyInclusion(LEAVES[5], 5, 8, 'not a proof', root8)).toBe(false);
    expect(verifyInclusion(LEAVES[5], 8, 8, inclusionProof(LEAVES, 5, 8), root8)).toBe(false);
    expect(verifyConsistency(8, 6, root8, unhex(ROOTS[6]!), consistencyProof(LEAVES, 6, 8))).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, root8, [])).toBe(true);
    expect(verifyConsistency(6, 8, unhex(ROOTS[6]!), root8, [])).toBe(false);
    expect(() => inclusionProof(LEAVES, 8, 8)).toThrow(RangeError);
    expect(() => consistencyProof(LEAVES, 5, 3)).toThrow(RangeError);
    expect(() => rootOf([Buffer.alloc(31)])).toThrow(TypeError);
  });
});
