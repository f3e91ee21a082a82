import { CommandHandler } from '@nestjs/cqrs';
import type { ChangeSeats, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { ChangeSeatsCommand } from './change-seats.command';

@CommandHandler(ChangeSeatsCommand)
export class ChangeSeatsHandler extends EntitlementUseCaseHandler<ChangeSeatsCommand> {
  protected toDomain(c: ChangeSeatsCommand, metadata: CommandMetadata): ChangeSeats {
    return { type: 'ChangeSeats', data: { seats: c.seats }, metadata };
  }
}
