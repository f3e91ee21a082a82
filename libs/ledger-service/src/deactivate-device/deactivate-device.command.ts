import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Deactivate a device, freeing its slot. */
export class DeactivateDeviceCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** The device. */
    readonly deviceId: string,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
