import { envelope, type Command, type DomainEvent } from '../shared/envelope';
import { reject } from '../shared/errors';
import { toMillis } from '../shared/time';

/**
 * Issuing a license token is recorded (who got which entitlements, signed with
 * which key, valid until when, as of which ledger position); the token itself
 * is not stored: it can be reissued, never recovered.
 */
export type LicenseTokenIssued = DomainEvent<
  'LicenseTokenIssued',
  {
    customerId: string;
    tokenId: string;
    keyId: string;
    entitlementIds: readonly string[];
    /** The user or device the token is bound to, if any. */
    userId: string | null;
    deviceId: string | null;
    /** Ledger position the token reflects. */
    position: number;
    issuedAt: string;
    expiresAt: string;
    /** The token this one refreshes. */
    refreshOf: string | null;
  }
>;
export type LicenseTokenEvent = LicenseTokenIssued;

export type IssueLicenseToken = Command<'IssueLicenseToken', LicenseTokenIssued['data']>;

export interface LicenseTokenLog {
  readonly issued: number;
  readonly lastTokenId: string | null;
}

export const initialLicenseTokenLog: LicenseTokenLog = { issued: 0, lastTokenId: null };
export const licenseTokenStream = (customerId: string): string => `license-tokens-${customerId}`;

export function decideIssueLicenseToken(command: IssueLicenseToken, _state: LicenseTokenLog): LicenseTokenEvent[] {
  const d = command.data;
  if (toMillis(d.expiresAt) <= toMillis(d.issuedAt)) {
    reject('QUANTITY.INVALID', `a token must expire after it is issued (${d.issuedAt} → ${d.expiresAt})`, { issuedAt: d.issuedAt, expiresAt: d.expiresAt });
  }
  return [{ type: 'LicenseTokenIssued', data: d, metadata: envelope(command.metadata) }];
}

function evolveLicenseTokenLog(state: LicenseTokenLog, event: LicenseTokenEvent): LicenseTokenLog {
  return { issued: state.issued + 1, lastTokenId: event.data.tokenId };
}

export const licenseTokenDecider = {
  decide: decideIssueLicenseToken,
  evolve: evolveLicenseTokenLog,
  initialState: (): LicenseTokenLog => initialLicenseTokenLog,
};
