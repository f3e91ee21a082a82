import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Suspend: checks answer SUSPENDED until reinstated. */
export class SuspendEntitlementCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** Why, as the operator wrote it. */
    readonly reason: string,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
