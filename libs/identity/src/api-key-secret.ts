import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key is `elk_<keyId>_<secret>`: the prefix makes a leaked key easy to
 * recognise (secret scanners), the key id (16 hex) finds the record without a
 * scan, the secret is 256 random bits. Only SHA-256 of the whole key is stored.
 */
export const API_KEY_PREFIX = 'elk_';
const FORMAT = /^elk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function newApiKey(): { keyId: string; key: string; secretSha256: string } {
  const keyId = randomBytes(8).toString('hex');
  const key = `${API_KEY_PREFIX}${keyId}_${randomBytes(32).toString('base64url')}`;
  return { keyId, key, secretSha256: sha256(key) };
}

/** The key id of a well-formed key, or null. */
export function keyIdOf(key: string): string | null {
  const m = FORMAT.exec(key);
  return m ? m[1]! : null;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of the key's hash with the stored one. */
export function matches(key: string, secretSha256: string): boolean {
  const a = Buffer.from(sha256(key), 'hex');
  const b = Buffer.from(secretSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
