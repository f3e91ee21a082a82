import { CommandHandler } from '@nestjs/cqrs';
import type { DetachAddOn, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { DetachAddOnCommand } from './detach-add-on.command';

@CommandHandler(DetachAddOnCommand)
export class DetachAddOnHandler extends EntitlementUseCaseHandler<DetachAddOnCommand> {
  protected toDomain(c: DetachAddOnCommand, metadata: CommandMetadata): DetachAddOn {
    return { type: 'DetachAddOn', data: { sku: c.sku, reason: c.reason }, metadata };
  }
}
