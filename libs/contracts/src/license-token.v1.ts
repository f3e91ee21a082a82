import { checkSubject, effectiveFeatures, graceEndsAtOf, statusReasonOf, type CheckSubject, type Entitlement, type FeatureSet } from '@el/domain';

/**
 * A license token: a compact JWS (EdDSA / Ed25519), header `{alg: "EdDSA",
 * kid, typ: "license+jwt"}`, whose claims say what a customer owns as of a
 * ledger position. Verified offline against the ledger's JWKS
 * (`/.well-known/jwks.json`); `alg` is fixed by the verifier. A token may be
 * bound to a user and/or a device: it then says whether that user holds a seat
 * and that device is activated, instead of listing every seat holder.
 */
export const LICENSE_TOKEN_ISSUER = 'urn:entitlement-ledger';
export const LICENSE_TOKEN_AUDIENCE = 'urn:entitlement-ledger:sdk';
export const LICENSE_TOKEN_TYP = 'license+jwt';
export const LICENSE_TOKEN_ALG = 'EdDSA';

export interface LicenseEntitlementV1 {
  readonly id: string;
  readonly product: string;
  readonly plan: string;
  readonly sku: string;
  readonly tier: number;
  readonly status: 'active' | 'suspended' | 'expired' | 'revoked';
  readonly reason: string | null;
  readonly validFrom: string;
  readonly validUntil: string | null;
  readonly graceEndsAt: string | null;
  readonly regions: readonly string[] | null;
  readonly seats: number;
  /** Plan and add-on grants merged: feature → {limit?, meter?}. */
  readonly features: FeatureSet;
  /** When the token is bound to a user: does that user hold a seat? */
  readonly seated?: boolean;
  /** When the token is bound to a device: is that device activated? */
  readonly deviceActive?: boolean;
}

export interface LicenseTokenClaimsV1 {
  readonly iss: string;
  readonly aud: string;
  /** The customer. */
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** Ledger position the token reflects. */
  readonly pos: number;
  readonly usr?: string;
  readonly dev?: string;
  readonly ents: readonly LicenseEntitlementV1[];
}

export function licenseEntitlementV1(e: Entitlement, bound: { userId?: string; deviceId?: string }): LicenseEntitlementV1 {
  return {
    id: e.entitlementId,
    product: e.productId,
    plan: e.planId,
    sku: e.planSku,
    tier: e.tier,
    status: e.status,
    reason: statusReasonOf(e),
    validFrom: e.validFrom,
    validUntil: e.validUntil,
    graceEndsAt: graceEndsAtOf(e),
    regions: e.regions ? [...e.regions] : null,
    seats: e.seats,
    features: effectiveFeatures(e),
    ...(bound.userId !== undefined ? { seated: e.assignedUsers.has(bound.userId) } : {}),
    ...(bound.deviceId !== undefined ? { deviceActive: Boolean(e.devices[bound.deviceId]) } : {}),
  };
}

/** The decision function's subjects from a verified token's claims. */
export function subjectsFromLicense(claims: LicenseTokenClaimsV1): CheckSubject[] {
  return claims.ents.map((e) =>
    checkSubject({
      entitlementId: e.id,
      customerId: claims.sub,
      productId: e.product,
      planId: e.plan,
      tier: e.tier,
      status: e.status,
      statusReason: e.reason,
      validFrom: e.validFrom,
      validUntil: e.validUntil,
      graceEndsAt: e.graceEndsAt,
      regions: e.regions,
      features: e.features,
      seats: e.seats,
      seatHolders: e.seated && claims.usr !== undefined ? [claims.usr] : [],
      devices: e.deviceActive && claims.dev !== undefined ? [claims.dev] : [],
    }),
  );
}
