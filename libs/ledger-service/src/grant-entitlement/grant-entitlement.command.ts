import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** An operator grants an entitlement by hand (ERP purchases arrive as orders). */
export class GrantEntitlementCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    readonly customerId: string,
    readonly sku: string,
    readonly quantity: number,
    /** ISO-8601 start of validity; now when absent. */
    readonly validFrom: string | undefined,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
