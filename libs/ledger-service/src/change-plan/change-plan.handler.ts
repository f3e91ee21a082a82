import { CommandHandler } from '@nestjs/cqrs';
import type { ChangePlan, CommandMetadata } from '@el/domain';
import { Clock, IdGenerator } from '@el/platform';
import { EntitlementChanges } from '../entitlements/entitlement-changes';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { CatalogService } from '../infrastructure/catalog.service';
import { ChangePlanCommand } from './change-plan.command';

@CommandHandler(ChangePlanCommand)
export class ChangePlanHandler extends EntitlementUseCaseHandler<ChangePlanCommand> {
  constructor(changes: EntitlementChanges, clock: Clock, ids: IdGenerator, private readonly catalog: CatalogService) {
    super(changes, clock, ids);
  }

  protected toDomain(c: ChangePlanCommand, metadata: CommandMetadata): ChangePlan {
    return {
      type: 'ChangePlan',
      data: { catalog: this.catalog.current(), sku: c.sku, ...(c.quantity !== undefined ? { quantity: c.quantity } : {}), ...(c.direction ? { direction: c.direction } : {}) },
      metadata,
    };
  }
}
