import { CommandHandler } from '@nestjs/cqrs';
import type { AttachAddOn, CommandMetadata } from '@el/domain';
import { Clock, IdGenerator } from '@el/platform';
import { EntitlementChanges } from '../entitlements/entitlement-changes';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { CatalogService } from '../infrastructure/catalog.service';
import { AttachAddOnCommand } from './attach-add-on.command';

@CommandHandler(AttachAddOnCommand)
export class AttachAddOnHandler extends EntitlementUseCaseHandler<AttachAddOnCommand> {
  constructor(changes: EntitlementChanges, clock: Clock, ids: IdGenerator, private readonly catalog: CatalogService) {
    super(changes, clock, ids);
  }

  protected toDomain(c: AttachAddOnCommand, metadata: CommandMetadata): AttachAddOn {
    return { type: 'AttachAddOn', data: { catalog: this.catalog.current(), sku: c.sku, quantity: c.quantity }, metadata };
  }
}
