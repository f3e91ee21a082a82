import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Attach an add-on; buying the same add-on again adds to its quantity. */
export class AttachAddOnCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** The add-on SKU. */
    readonly sku: string,
    /** Units; raised limits and caps scale with the total bought. */
    readonly quantity: number,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
