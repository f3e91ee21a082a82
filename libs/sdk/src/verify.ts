import { decodeProtectedHeader, errors, importJWK, jwtVerify, type JWK, type JSONWebKeySet } from 'jose';
import {
  LICENSE_TOKEN_ALG,
  LICENSE_TOKEN_AUDIENCE,
  LICENSE_TOKEN_ISSUER,
  LICENSE_TOKEN_TYP,
  subjectsFromLicense,
  type LicenseEntitlementV1,
  type LicenseTokenClaimsV1,
} from '@el/contracts';
import type { CheckSubject } from '@el/domain';

export type LicenseTokenErrorCode =
  /** Not a compact JWS with a JSON header and payload. */
  | 'MALFORMED'
  /** The header names an algorithm other than EdDSA (`none`, HS256, RS256…). */
  | 'ALG_NOT_ALLOWED'
  /** No published key has the header's `kid` (or the header has none). */
  | 'UNKNOWN_KID'
  /** The signature does not match: the token was altered or signed by someone else. */
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  /** Issuer, audience, type or the license claims are not what this ledger issues. */
  | 'CLAIMS_INVALID';

export class LicenseTokenError extends Error {
  override readonly name = 'LicenseTokenError';
  constructor(
    readonly code: LicenseTokenErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The longest clock skew a verifier tolerates; more would let expired licenses live on. */
export const MAX_LEEWAY_SECONDS = 300;
export const DEFAULT_LEEWAY_SECONDS = 30;

type VerificationKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * The ledger's public keys (its JWKS). Only Ed25519 keys with a `kid` are
 * kept: a symmetric (`oct`) or RSA key in the set is ignored, so a token can
 * never be checked with an algorithm the ledger does not sign with.
 */
export class LicenseKeySet {
  private readonly jwks = new Map<string, JWK>();
  private readonly imported = new Map<string, VerificationKey>();

  constructor(jwks: JSONWebKeySet) {
    if (!jwks || !Array.isArray(jwks.keys)) throw new TypeError('LicenseKeySet: expected a JWKS ({keys: [...]})');
    for (const k of jwks.keys) {
      if (k.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.x === 'string' && typeof k.kid === 'string' && (k.alg === undefined || k.alg === LICENSE_TOKEN_ALG) && k.d === undefined) {
        this.jwks.set(k.kid, { kty: 'OKP', crv: 'Ed25519', x: k.x, kid: k.kid, alg: LICENSE_TOKEN_ALG });
      }
    }
  }

  get kids(): string[] {
    return [...this.jwks.keys()];
  }

  has(kid: string): boolean {
    return this.jwks.has(kid);
  }

  /** The keys as a JWKS (for caching to disk). */
  toJSON(): JSONWebKeySet {
    return { keys: [...this.jwks.values()] };
  }

  async key(kid: string): Promise<VerificationKey | undefined> {
    let key = this.imported.get(kid);
    if (!key) {
      const jwk = this.jwks.get(kid);
      if (!jwk) return undefined;
      key = await importJWK(jwk, LICENSE_TOKEN_ALG);
      this.imported.set(kid, key);
    }
    return key;
  }
}

export interface VerifyOptions {
  /** Epoch milliseconds; default Date.now(). */
  readonly now?: number;
  /** Clock skew tolerated on `exp` and `nbf`, at most MAX_LEEWAY_SECONDS (default 30). */
  readonly leewaySeconds?: number;
}

/** A verified token with its check subjects precomputed. */
export interface VerifiedLicense {
  readonly token: string;
  readonly kid: string;
  readonly claims: LicenseTokenClaimsV1;
  readonly customerId: string;
  readonly userId: string | undefined;
  readonly deviceId: string | undefined;
  /** Ledger position the token reflects. */
  readonly position: number;
  readonly issuedAtMs: number;
  readonly notBeforeMs: number;
  readonly expiresAtMs: number;
  readonly subjects: readonly CheckSubject[];
}

/**
 * Verifies a license token offline. The algorithm is fixed to EdDSA before
 * anything else is looked at, the key is chosen by `kid` among the ledger's
 * Ed25519 keys only, and issuer, audience, type, `exp` and `nbf` (with a
 * bounded leeway) are enforced. Throws LicenseTokenError with a code.
 */
export async function verifyLicenseToken(token: string, keys: LicenseKeySet, options: VerifyOptions = {}): Promise<VerifiedLicense> {
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!(leeway >= 0 && leeway <= MAX_LEEWAY_SECONDS)) throw new RangeError(`leewaySeconds must be between 0 and ${MAX_LEEWAY_SECONDS} (got ${leeway})`);
  if (typeof token !== 'string' || token.split('.').length !== 3) throw new LicenseTokenError('MALFORMED', 'a license token is a compact JWS: header.payload.signature');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw new LicenseTokenError('MALFORMED', (err as Error).message);
  }
  if (header.alg !== LICENSE_TOKEN_ALG) throw new LicenseTokenError('ALG_NOT_ALLOWED', `alg ${JSON.stringify(header.alg ?? null)} is not allowed; license tokens are signed with ${LICENSE_TOKEN_ALG}`);
  if (typeof header.kid !== 'string') throw new LicenseTokenError('UNKNOWN_KID', 'the token header has no kid');
  const key = await keys.key(header.kid);
  if (!key) throw new LicenseTokenError('UNKNOWN_KID', `no published key has kid ${header.kid} (known: ${keys.kids.join(', ') || 'none'})`);

  const now = options.now ?? Date.now();
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [LICENSE_TOKEN_ALG],
      issuer: LICENSE_TOKEN_ISSUER,
      audience: LICENSE_TOKEN_AUDIENCE,
      typ: LICENSE_TOKEN_TYP,
      currentDate: new Date(now),
      clockTolerance: leeway,
      requiredClaims: ['sub', 'jti', 'iat', 'nbf', 'exp'],
    }));
  } catch (err) {
    throw mapJoseError(err);
  }
  const claims = assertLicenseClaims(payload);
  return {
    token,
    kid: header.kid,
    claims,
    customerId: claims.sub,
    userId: claims.usr,
    deviceId: claims.dev,
    position: claims.pos,
    issuedAtMs: claims.iat * 1000,
    notBeforeMs: claims.nbf * 1000,
    expiresAtMs: claims.exp * 1000,
    subjects: subjectsFromLicense(claims),
  };
}

function mapJoseError(err: unknown): LicenseTokenError {
  if (err instanceof errors.JWTExpired) return new LicenseTokenError('EXPIRED', err.message);
  if (err instanceof errors.JWTClaimValidationFailed) {
    return err.claim === 'nbf' ? new LicenseTokenError('NOT_YET_VALID', err.message) : new LicenseTokenError('CLAIMS_INVALID', err.message);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new LicenseTokenError('BAD_SIGNATURE', 'the signature does not match the token: it was altered or not signed by the ledger');
  if (err instanceof errors.JOSEAlgNotAllowed) return new LicenseTokenError('ALG_NOT_ALLOWED', err.message);
  if (err instanceof errors.JOSEError) return new LicenseTokenError('MALFORMED', err.message);
  return new LicenseTokenError('MALFORMED', (err as Error)?.message ?? String(err));
}

const STATUSES = new Set(['active', 'suspended', 'expired', 'revoked']);
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown) => v === null || typeof v === 'string';

function assertLicenseClaims(payload: unknown): LicenseTokenClaimsV1 {
  const p = payload as Partial<LicenseTokenClaimsV1>;
  const bad = (what: string) => new LicenseTokenError('CLAIMS_INVALID', `the token's ${what} is not a license claim of this ledger`);
  if (!Number.isInteger(p.pos) || (p.pos as number) < 0) throw bad('pos');
  if (p.usr !== undefined && !isString(p.usr)) throw bad('usr');
  if (p.dev !== undefined && !isString(p.dev)) throw bad('dev');
  if (!Array.isArray(p.ents)) throw bad('ents');
  p.ents.forEach((e: LicenseEntitlementV1, i) => {
    const ok =
      e !== null &&
      typeof e === 'object' &&
      isString(e.id) &&
      isString(e.product) &&
      isString(e.plan) &&
      Number.isFinite(e.tier) &&
      STATUSES.has(e.status) &&
      isStringOrNull(e.reason) &&
      isString(e.validFrom) &&
      !Number.isNaN(Date.parse(e.validFrom)) &&
      isStringOrNull(e.validUntil) &&
      isStringOrNull(e.graceEndsAt) &&
      (e.regions === null || (Array.isArray(e.regions) && e.regions.every(isString))) &&
      Number.isFinite(e.seats) &&
      e.features !== null &&
      typeof e.features === 'object';
    if (!ok) throw bad(`ents[${i}]`);
  });
  return p as LicenseTokenClaimsV1;
}
