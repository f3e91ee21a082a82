import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '@el/platform';
import type { AccessRequestResult } from '../access-requests/access-request.repository';

/** Approve an access request (the approver is the caller, never the requester): grants the plan or attaches the add-on. */
export class ApproveAccessRequestCommand extends Command<AccessRequestResult> {
  constructor(
    readonly requestId: string,
    readonly comment: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
