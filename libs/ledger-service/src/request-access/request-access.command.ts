import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '@el/platform';
import type { AccessRequestResult } from '../access-requests/access-request.repository';

/** Ask for a plan (a new entitlement) or an add-on (on an existing one); someone else decides. */
export class RequestAccessCommand extends Command<AccessRequestResult> {
  constructor(
    readonly requestId: string,
    readonly customerId: string,
    readonly sku: string,
    readonly quantity: number,
    readonly reason: string,
    /** The entitlement an add-on request extends. */
    readonly entitlementId: string | undefined,
    /** Who asks is its principal: recorded as requestedBy, compared with the approver. */
    readonly context: RequestContext,
  ) {
    super();
  }
}
