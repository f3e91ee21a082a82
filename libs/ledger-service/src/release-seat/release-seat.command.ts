import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Take a user's seat back; the user's devices are deactivated with it. */
export class ReleaseSeatCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** The seat holder. */
    readonly userId: string,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
