import { CommandHandler } from '@nestjs/cqrs';
import type { RenewEntitlement, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { RenewEntitlementCommand } from './renew-entitlement.command';

@CommandHandler(RenewEntitlementCommand)
export class RenewEntitlementHandler extends EntitlementUseCaseHandler<RenewEntitlementCommand> {
  protected toDomain(c: RenewEntitlementCommand, metadata: CommandMetadata): RenewEntitlement {
    return { type: 'RenewEntitlement', data: { periods: c.periods }, metadata };
  }
}
