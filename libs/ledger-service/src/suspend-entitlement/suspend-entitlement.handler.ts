import { CommandHandler } from '@nestjs/cqrs';
import type { SuspendEntitlement, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { SuspendEntitlementCommand } from './suspend-entitlement.command';

@CommandHandler(SuspendEntitlementCommand)
export class SuspendEntitlementHandler extends EntitlementUseCaseHandler<SuspendEntitlementCommand> {
  protected toDomain(c: SuspendEntitlementCommand, metadata: CommandMetadata): SuspendEntitlement {
    return { type: 'SuspendEntitlement', data: { reason: c.reason }, metadata };
  }
}
