import { CommandHandler } from '@nestjs/cqrs';
import type { ReleaseSeat, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { ReleaseSeatCommand } from './release-seat.command';

@CommandHandler(ReleaseSeatCommand)
export class ReleaseSeatHandler extends EntitlementUseCaseHandler<ReleaseSeatCommand> {
  protected toDomain(c: ReleaseSeatCommand, metadata: CommandMetadata): ReleaseSeat {
    return { type: 'ReleaseSeat', data: { userId: c.userId }, metadata };
  }
}
