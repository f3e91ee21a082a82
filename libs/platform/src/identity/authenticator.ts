import { CodedError } from '../errors/coded-error';
import type { Principal } from './principal';

/**
 * Turns an `Authorization` header into a principal, or throws 401. Answers
 * synchronously when the credential is in its cache (the check routes' hot
 * path), with a promise otherwise.
 */
export abstract class Authenticator {
  abstract authenticate(authorization: string | undefined): Principal | Promise<Principal>;
}

/**
 * The codes of the access layer, the same in every service: mapped to HTTP by
 * the platform's part of every error table (PLATFORM_ERROR_TABLE).
 */
export const ACCESS_ERROR_TABLE = {
  'AUTH.MISSING_CREDENTIAL': 401,
  'AUTH.INVALID_CREDENTIAL': 401,
  'AUTH.FORBIDDEN': 403,
  RATE_LIMITED: 429,
} as const;

export function missingCredential(): CodedError {
  return new CodedError('AUTH.MISSING_CREDENTIAL', 'this route needs a credential: Authorization: Bearer <API key or token>');
}

export function invalidCredential(why: string): CodedError {
  return new CodedError('AUTH.INVALID_CREDENTIAL', `the credential was not accepted: ${why}`);
}

export function forbidden(principal: Principal, permission: string): CodedError {
  return new CodedError('AUTH.FORBIDDEN', `role ${principal.role} does not hold ${permission}`, { role: principal.role, permission });
}

/** The bearer credential of an Authorization header, or null when there is none. */
export function bearerOf(authorization: string | undefined): string | null {
  if (authorization === undefined || authorization === '') return null;
  const m = /^Bearer[ ]+([\x21-\x7e]{1,8192})$/i.exec(authorization);
  if (!m) throw invalidCredential('the Authorization header must be "Bearer <credential>"');
  return m[1]!;
}

/** Refuses every credential: for processes that serve only public routes. */
export class NoAuthenticator extends Authenticator {
  authenticate(authorization: string | undefined): Principal {
    if (bearerOf(authorization) === null) throw missingCredential();
    throw invalidCredential('this process accepts no credentials');
  }
}
