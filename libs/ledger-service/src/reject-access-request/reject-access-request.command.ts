import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '@el/platform';
import type { AccessRequestResult } from '../access-requests/access-request.repository';

/** Reject an access request, with why (the approver is the caller). */
export class RejectAccessRequestCommand extends Command<AccessRequestResult> {
  constructor(
    readonly requestId: string,
    readonly reason: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
