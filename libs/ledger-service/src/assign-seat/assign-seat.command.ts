import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Give a user one of the seats. */
export class AssignSeatCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** The seat holder. */
    readonly userId: string,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
