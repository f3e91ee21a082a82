import { CommandHandler } from '@nestjs/cqrs';
import type { ReinstateEntitlement, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { ReinstateEntitlementCommand } from './reinstate-entitlement.command';

@CommandHandler(ReinstateEntitlementCommand)
export class ReinstateEntitlementHandler extends EntitlementUseCaseHandler<ReinstateEntitlementCommand> {
  protected toDomain(c: ReinstateEntitlementCommand, metadata: CommandMetadata): ReinstateEntitlement {
    return { type: 'ReinstateEntitlement', data: { reason: c.reason }, metadata };
  }
}
