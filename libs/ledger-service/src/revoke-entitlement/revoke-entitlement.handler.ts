import { CommandHandler } from '@nestjs/cqrs';
import type { RevokeEntitlement, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { RevokeEntitlementCommand } from './revoke-entitlement.command';

@CommandHandler(RevokeEntitlementCommand)
export class RevokeEntitlementHandler extends EntitlementUseCaseHandler<RevokeEntitlementCommand> {
  protected toDomain(c: RevokeEntitlementCommand, metadata: CommandMetadata): RevokeEntitlement {
    return { type: 'RevokeEntitlement', data: { reason: c.reason }, metadata };
  }
}
