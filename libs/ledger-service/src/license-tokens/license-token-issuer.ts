import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import {
  LICENSE_TOKEN_ALG,
  LICENSE_TOKEN_AUDIENCE,
  LICENSE_TOKEN_ISSUER,
  LICENSE_TOKEN_TYP,
  licenseEntitlementV1,
  type LicenseTokenClaimsV1,
} from '@el/contracts';
import { decideIssueLicenseToken, initialLicenseTokenLog, licenseTokenStream, type CommandMetadata } from '@el/domain';
import { Clock, IdGenerator, Keystore, PublicKeys } from '@el/platform';
import { ReadYourWrites } from '@el/read-models';
import { EventStreams } from '../infrastructure/event-streams';
import { keystoreDir, LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { LedgerError } from '../ledger.errors';


export interface IssuedToken {
  readonly token: string;
  readonly tokenId: string;
  readonly keyId: string;
  readonly customerId: string;
  readonly expiresAt: string;
  /** Ledger position the token reflects. */
  readonly position: number;
}

export interface TokenRequest {
  readonly customerId: string;
  readonly userId?: string;
  readonly deviceId?: string;
  /** Wait until the read models include this write before reading what the customer owns. */
  readonly minPosition?: number;
}

/**
 * Issues license tokens from the read models (what the customer owns as of a
 * position), signs them with the keystore's active Ed25519 key, and records
 * each issuance as an event. Refreshing re-reads the customer's entitlements,
 * so an upgrade or downgrade reaches the application at its next refresh,
 * without the end user doing anything. Used by the issue and refresh use cases.
 */
@Injectable()
export class LicenseTokenIssuer implements OnModuleInit {
  private keystore!: Keystore;

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig & { DATA_DIR?: string },
    private readonly ryw: ReadYourWrites,
    private readonly streams: EventStreams,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly publicKeys: PublicKeys,
  ) {}

  async onModuleInit(): Promise<void> {
    this.keystore = await Keystore.open(keystoreDir(this.config), { create: this.config.KEYSTORE_CREATE, overlapDays: this.config.TOKEN_KEY_OVERLAP_DAYS, now: this.clock.now(), allowSharedRead: this.config.KEYSTORE_ALLOW_SHARED_READ });
    // Published at /.well-known/jwks.json (use "sig"), next to any other signer's keys in this process.
    this.publicKeys.add(() => this.jwks());
  }

  jwks() {
    return this.keystore.jwks(this.clock.now());
  }

  async issue(request: TokenRequest, meta: CommandMetadata, refreshOf: string | null = null): Promise<IssuedToken> {
    // The states and the position they are at, from one read (one round trip on PostgreSQL).
    const { position, entitlements } = await this.ryw.customerEntitlementStates(request.customerId, request.minPosition);
    const now = this.clock.now();
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.config.TOKEN_TTL_SECONDS;
    const tokenId = this.ids.random();
    const bound = { ...(request.userId !== undefined ? { userId: request.userId } : {}), ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}) };
    const claims: Omit<LicenseTokenClaimsV1, 'iss' | 'aud' | 'sub' | 'jti' | 'iat' | 'nbf' | 'exp'> = {
      pos: position,
      ...(request.userId !== undefined ? { usr: request.userId } : {}),
      ...(request.deviceId !== undefined ? { dev: request.deviceId } : {}),
      ents: entitlements.map((e) => licenseEntitlementV1(e.state, bound)),
    };
    const { kid, key } = await this.keystore.signingKey();
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: LICENSE_TOKEN_ALG, kid, typ: LICENSE_TOKEN_TYP })
      .setIssuer(LICENSE_TOKEN_ISSUER)
      .setAudience(LICENSE_TOKEN_AUDIENCE)
      .setSubject(request.customerId)
      .setJti(tokenId)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(key);
    const expiresAt = new Date(exp * 1000).toISOString();
    const events = decideIssueLicenseToken(
      {
        type: 'IssueLicenseToken',
        data: { customerId: request.customerId, tokenId, keyId: kid, entitlementIds: entitlements.map((e) => e.entitlementId), userId: request.userId ?? null, deviceId: request.deviceId ?? null, position, issuedAt: now.toISOString(), expiresAt, refreshOf },
        metadata: meta,
      },
      initialLicenseTokenLog,
    );
    await this.streams.append(licenseTokenStream(request.customerId), events, 'any', `token:${tokenId}`);
    return { token, tokenId, keyId: kid, customerId: request.customerId, expiresAt, position };
  }

  /**
   * The claims of a token this ledger signed, for a refresh: a valid signature
   * of this ledger, expired at most TOKEN_REFRESH_GRACE_SECONDS ago (an
   * application that was offline for a while).
   */
  async verifyForRefresh(token: string): Promise<LicenseTokenClaimsV1> {
    let claims: LicenseTokenClaimsV1;
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...this.keystore.jwks(this.clock.now()).keys] }), {
        algorithms: [LICENSE_TOKEN_ALG],
        issuer: LICENSE_TOKEN_ISSUER,
        audience: LICENSE_TOKEN_AUDIENCE,
        currentDate: this.clock.now(),
        clockTolerance: this.config.TOKEN_REFRESH_GRACE_SECONDS,
      });
      claims = payload as unknown as LicenseTokenClaimsV1;
    } catch (err) {
      const reason = err instanceof joseErrors.JWTExpired ? 'it expired more than TOKEN_REFRESH_GRACE_SECONDS ago' : err instanceof joseErrors.JOSEError ? err.message : 'it is not a license token';
      throw new LedgerError('TOKEN.INVALID', `this token cannot be refreshed: ${reason}`);
    }
    return claims;
  }
}
