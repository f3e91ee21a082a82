import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { CUSTOMER_ROLES, invalidCredential, isRole, ROLES, type Principal, type Role } from '@el/platform';
import type { OidcSettings } from './identity.config';

/**
 * Operators' access tokens from an external identity provider: signature by
 * the provider's JWKS (fetched and cached by jose, refetched on an unknown
 * `kid`), issuer, audience and lifetime checked; the roles claim maps to a
 * role (the most privileged one when several match).
 */
export class OidcVerifier {
  private readonly jwks;

  constructor(private readonly settings: OidcSettings) {
    this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  }

  async verify(token: string): Promise<{ principal: Principal; expiresAtMs: number }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, { issuer: this.settings.issuer, audience: this.settings.audience, clockTolerance: 30, requiredClaims: ['exp', 'sub'], algorithms: ASYMMETRIC }));
    } catch (err) {
      throw invalidCredential(describe(err));
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalidCredential('the token has no subject (sub)');
    const role = this.roleOf(payload);
    if (!role) throw invalidCredential(`the token's ${this.settings.rolesClaim} claim maps to no role of this service`);
    let customers: readonly string[] | null = null;
    if (CUSTOMER_ROLES.includes(role)) {
      const customer = claim(payload, this.settings.customerClaim);
      if (typeof customer !== 'string' || customer === '') throw invalidCredential(`a ${role} token needs the ${this.settings.customerClaim} claim`);
      customers = [customer];
    }
    const name = [payload['email'], payload['preferred_username'], payload.sub].find((v) => typeof v === 'string' && v !== '') as string;
    // A subject too long to record as it is gets a stable digest instead of a prefix two subjects could share.
    const id = payload.sub.length <= 180 ? `oidc:${payload.sub}` : `oidc:sha256:${createHash('sha256').update(payload.sub).digest('hex')}`;
    return { principal: { id, kind: 'oidc', role, name: name.slice(0, 200), customers }, expiresAtMs: payload.exp! * 1000 };
  }

  private roleOf(payload: JWTPayload): Role | null {
    const raw = claim(payload, this.settings.rolesClaim);
    const values = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[ ,]+/) : []).filter((v): v is string => typeof v === 'string');
    const roles = values.map((v) => (this.settings.roleMap ? this.settings.roleMap.get(v) : isRole(v) ? v : undefined)).filter((r): r is Role => r !== undefined);
    // ROLES is ordered from most to least privileged.
    return ROLES.find((r) => roles.includes(r)) ?? null;
  }
}

/** Signatures by the provider's published public keys only (no `none`, no shared-secret HMAC). */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function claim(payload: JWTPayload, path: string): unknown {
  let at: unknown = payload;
  for (const part of path.split('.')) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  return at;
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim ${err.claim} is not accepted (${err.reason})`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is not signed with an asymmetric algorithm this service accepts';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'the token was signed with a key the identity provider does not publish';
  if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) return 'the identity provider\'s keys could not be fetched';
  return 'the token is not a valid access token';
}
