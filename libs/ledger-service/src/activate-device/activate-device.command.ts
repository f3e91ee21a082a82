import type { RequestContext } from '@el/platform';
import { EntitlementUseCaseCommand } from '../entitlements/entitlement-use-case';

/** Activate a device, up to devices-per-seat × seats (and per user). */
export class ActivateDeviceCommand extends EntitlementUseCaseCommand {
  constructor(
    entitlementId: string,
    /** The device. */
    readonly deviceId: string,
    /** The seat holder using it; counts against their per-seat limit. */
    readonly userId: string | undefined,
    context: RequestContext,
  ) {
    super(entitlementId, context);
  }
}
