import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Reinstate a suspended entitlement. */
export class ReinstateEntitlementCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** Why, as the operator wrote it. */
    readonly reason: string,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
