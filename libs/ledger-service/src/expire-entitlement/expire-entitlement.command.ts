import { Command } from '@nestjs/cqrs';
import type { EntitlementWriteResult } from '../entitlements/entitlement-changes';

/** Record that an entitlement's validity and grace have passed (issued by the expiry sweeper). */
export class ExpireEntitlementCommand extends Command<EntitlementWriteResult> {
  constructor(
    readonly entitlementId: string,
    /** The end of validity the sweeper saw: with the id it names the command, so sweepers racing write one event. */
    readonly validUntil: string,
  ) {
    super();
  }
}
