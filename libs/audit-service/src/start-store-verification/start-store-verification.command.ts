import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '@el/platform';
import { StoreVerifications } from '../store-verifications/store-verifications';
import type { StoreVerification } from '../store-verifications/store-verification.view';

/** Compare the event store with the audit store in the background (check-store); a run in progress is answered instead of a second one. */
export class StartStoreVerificationCommand extends Command<StoreVerification> {
  constructor(readonly requestedBy: Principal) {
    super();
  }
}

@CommandHandler(StartStoreVerificationCommand)
export class StartStoreVerificationHandler implements ICommandHandler<StartStoreVerificationCommand, StoreVerification> {
  constructor(private readonly verifications: StoreVerifications) {}

  async execute(c: StartStoreVerificationCommand): Promise<StoreVerification> {
    return this.verifications.start(c.requestedBy.id);
  }
}
