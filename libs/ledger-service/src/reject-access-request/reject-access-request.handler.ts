import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decideAccessRequest, DomainError } from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { Clock } from '@el/platform';
import { AccessRequestRepository, type AccessRequestResult } from '../access-requests/access-request.repository';
import { commandMetadata } from '../infrastructure/command-metadata';
import { RejectAccessRequestCommand } from './reject-access-request.command';

@CommandHandler(RejectAccessRequestCommand)
export class RejectAccessRequestHandler implements ICommandHandler<RejectAccessRequestCommand, AccessRequestResult> {
  constructor(
    private readonly requests: AccessRequestRepository,
    private readonly clock: Clock,
  ) {}

  async execute(c: RejectAccessRequestCommand): Promise<AccessRequestResult> {
    const meta = commandMetadata(c.context, this.clock);
    const loaded = await this.requests.load(c.requestId);
    const events = decideAccessRequest({ type: 'RejectAccess', data: { rejectedBy: meta.actor.id, reason: c.reason }, metadata: meta }, loaded.state);
    try {
      const r = await this.requests.append(loaded, events, `access-request:${c.requestId}:reject`);
      return { requestId: c.requestId, status: 'rejected', revision: r.revision, position: r.position, replayed: r.duplicate };
    } catch (err) {
      if (isConcurrencyError(err)) throw new DomainError('ACCESS_REQUEST.ALREADY_DECIDED', `access request ${c.requestId} was decided concurrently`);
      throw err;
    }
  }
}
