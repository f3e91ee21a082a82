import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Upgrade or downgrade to another plan of the same product. */
export class ChangePlanCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    readonly sku: string,
    /** Units after the change; the seat count is kept when absent. */
    readonly quantity: number | undefined,
    /** Asserted direction: refused when the tiers say otherwise. */
    readonly direction: 'upgrade' | 'downgrade' | undefined,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
