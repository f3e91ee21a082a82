import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Permission } from './permissions';

/**
 * A route's access declaration. Every route has exactly one: `@Access(permission)`,
 * `@Public(why)` or `@SignedRequest(how)`. The guard refuses a route that has none
 * (a test walks every route by reflection), so a forgotten declaration fails closed.
 */
export type AccessDeclaration =
  | { readonly kind: 'permission'; readonly permission: Permission }
  | { readonly kind: 'public'; readonly why: string }
  | { readonly kind: 'signed'; readonly how: string };

export const ACCESS = 'el:access';

/** Needs a credential whose role holds `permission` (see PERMISSIONS). */
export function Access(permission: Permission): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ACCESS, { kind: 'permission', permission } satisfies AccessDeclaration),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'AUTH.MISSING_CREDENTIAL or AUTH.INVALID_CREDENTIAL: no, an unknown, a revoked or an expired credential' }),
    ApiForbiddenResponse({ description: `AUTH.FORBIDDEN: the credential's role does not hold ${permission}` }),
    ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' }),
  );
}

/** Open to anyone: health, the JWKS (public keys), metrics when METRICS_PUBLIC. */
export function Public(why: string): MethodDecorator & ClassDecorator {
  return SetMetadata(ACCESS, { kind: 'public', why } satisfies AccessDeclaration);
}

/** Authenticated by a signature over the request itself (payment-gateway webhooks), not by a bearer credential. */
export function SignedRequest(how: string): MethodDecorator & ClassDecorator {
  return SetMetadata(ACCESS, { kind: 'signed', how } satisfies AccessDeclaration);
}
