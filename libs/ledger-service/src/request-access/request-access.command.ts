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
    /** Who asks; the caller unless someone asks on another's behalf. */
    readonly requestedBy: string,
    /** The entitlement an add-on request extends. */
    readonly entitlementId: string | undefined,
    readonly context: RequestContext,
  ) {
    super();
  }
}
