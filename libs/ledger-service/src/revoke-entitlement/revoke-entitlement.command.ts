import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Revoke for good: a revoked entitlement never changes again. */
export class RevokeEntitlementCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** Why, as the operator wrote it. */
    readonly reason: string,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
