import { CommandHandler } from '@nestjs/cqrs';
import type { AssignSeat, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { AssignSeatCommand } from './assign-seat.command';

@CommandHandler(AssignSeatCommand)
export class AssignSeatHandler extends EntitlementUseCaseHandler<AssignSeatCommand> {
  protected toDomain(c: AssignSeatCommand, metadata: CommandMetadata): AssignSeat {
    return { type: 'AssignSeat', data: { userId: c.userId }, metadata };
  }
}
