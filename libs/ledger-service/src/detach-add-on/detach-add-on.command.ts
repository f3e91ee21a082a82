import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Detach an add-on. */
export class DetachAddOnCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** The add-on SKU. */
    readonly sku: string,
    /** Why. */
    readonly reason: string,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
