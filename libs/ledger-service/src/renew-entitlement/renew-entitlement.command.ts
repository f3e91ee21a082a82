import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Renew for more terms. */
export class RenewEntitlementCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** How many terms to add. */
    readonly periods: number,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
