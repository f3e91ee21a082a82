import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { SIGNED_TREE_HEAD_VERSION, type SignedTreeHeadV1 } from '@el/contracts';
import { canonicalJson } from '../canonical-json';

/** A JWK as published in /.well-known/jwks.json. */
export interface PublishedJwk {
  readonly kty?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly kid?: string;
  readonly use?: string;
  readonly alg?: string;
}

/** The JWK `use` of the keys that sign tree heads. */
export const TREE_HEAD_KEY_USE = 'audit';

/**
 * The bytes a tree head's signature covers: UTF-8 of the RFC 8785 canonical
 * JSON of {kid, lastPosition, rootHash, timestamp, treeSize, version} — every
 * member of the signed tree head but the signature itself.
 */
export function treeHeadMessage(h: Omit<SignedTreeHeadV1, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ kid: h.kid, lastPosition: h.lastPosition, rootHash: h.rootHash, timestamp: h.timestamp, treeSize: h.treeSize, version: h.version }), 'utf8');
}

export type TreeHeadCheck = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a signed tree head against a JWKS: the key named by `kid` must be
 * an Ed25519 key published with use "audit" (a license-token key, use "sig",
 * cannot vouch for a tree head), and the signature must verify over
 * treeHeadMessage. Never throws.
 */
export class TreeHeadVerifier {
  private readonly keys = new Map<string, KeyObject>();

  constructor(jwks: { readonly keys?: readonly PublishedJwk[] }) {
    for (const k of jwks.keys ?? []) {
      if (k.use !== TREE_HEAD_KEY_USE || k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.kid !== 'string' || typeof k.x !== 'string') continue;
      try {
        this.keys.set(k.kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x }, format: 'jwk' }));
      } catch {
        // A malformed key vouches for nothing.
      }
    }
  }

  get size(): number {
    return this.keys.size;
  }

  verify(sth: SignedTreeHeadV1): TreeHeadCheck {
    if (sth === null || typeof sth !== 'object') return { ok: false, reason: 'not a tree head' };
    if (sth.version !== SIGNED_TREE_HEAD_VERSION) return { ok: false, reason: `unknown tree head version ${JSON.stringify(sth.version)}` };
    if (!Number.isSafeInteger(sth.treeSize) || sth.treeSize < 0 || !Number.isSafeInteger(sth.lastPosition) || sth.lastPosition < 0) return { ok: false, reason: 'treeSize and lastPosition must be whole numbers ≥ 0' };
    if (typeof sth.rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(sth.rootHash)) return { ok: false, reason: 'rootHash must be 64 lowercase hex digits' };
    if (typeof sth.timestamp !== 'string' || typeof sth.signature !== 'string' || typeof sth.kid !== 'string') return { ok: false, reason: 'timestamp, kid and signature must be strings' };
    const key = this.keys.get(sth.kid);
    if (!key) return { ok: false, reason: `no key ${sth.kid} with use "${TREE_HEAD_KEY_USE}" in the JWKS` };
    let message: Buffer;
    try {
      message = treeHeadMessage(sth);
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    const signature = Buffer.from(sth.signature, 'base64url');
    if (signature.length !== 64 || !verify(null, message, key, signature)) return { ok: false, reason: `the signature does not verify with key ${sth.kid}` };
    return { ok: true };
  }
}
