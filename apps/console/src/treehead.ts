import type { SignedTreeHeadV1 } from './api/server-types';

export type HeadCheck = { ok: true; kid: string } | { ok: false; reason: string };

const b64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/**
 * Checks a signed tree head in this browser, against the service's published
 * keys: the key named by its kid must be an Ed25519 key with use "audit", and
 * the signature must verify over the head's canonical JSON (RFC 8785: its six
 * fields, keys sorted — libs/audit-service/README.md).
 */
export async function verifyTreeHead(head: SignedTreeHeadV1, jwks: { keys?: readonly Record<string, unknown>[] }): Promise<HeadCheck> {
  const jwk = jwks.keys?.find((k) => k['kid'] === head.kid);
  if (!jwk) return { ok: false, reason: `no published key ${head.kid}` };
  if (jwk['use'] !== 'audit' || jwk['crv'] !== 'Ed25519') return { ok: false, reason: `key ${head.kid} is not an Ed25519 audit key` };
  const message = JSON.stringify({ kid: head.kid, lastPosition: head.lastPosition, rootHash: head.rootHash, timestamp: head.timestamp, treeSize: head.treeSize, version: head.version });
  try {
    const key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: String(jwk['x']) }, { name: 'Ed25519' }, false, ['verify']);
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, b64url(head.signature), new TextEncoder().encode(message));
    return ok ? { ok: true, kid: head.kid } : { ok: false, reason: 'the signature does not verify' };
  } catch (err) {
    return { ok: false, reason: `this browser cannot verify Ed25519 signatures (${(err as Error).message})` };
  }
}
