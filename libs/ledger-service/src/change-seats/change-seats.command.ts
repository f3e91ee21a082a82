import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Set the seat count; reducing below the assigned seats is refused with how many to release. */
export class ChangeSeatsCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** The new total seat count. */
    readonly seats: number,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
