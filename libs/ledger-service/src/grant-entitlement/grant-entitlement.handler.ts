import { CommandHandler } from '@nestjs/cqrs';
import type { CommandMetadata, GrantEntitlement } from '@el/domain';
import { Clock, IdGenerator } from '@el/platform';
import { EntitlementChanges } from '../entitlements/entitlement-changes';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { CatalogService } from '../infrastructure/catalog.service';
import { GrantEntitlementCommand } from './grant-entitlement.command';

@CommandHandler(GrantEntitlementCommand)
export class GrantEntitlementHandler extends EntitlementUseCaseHandler<GrantEntitlementCommand> {
  constructor(changes: EntitlementChanges, clock: Clock, ids: IdGenerator, private readonly catalog: CatalogService) {
    super(changes, clock, ids);
  }

  protected toDomain(c: GrantEntitlementCommand, metadata: CommandMetadata): GrantEntitlement {
    return {
      type: 'GrantEntitlement',
      data: {
        entitlementId: c.entitlementId,
        customerId: c.customerId,
        catalog: this.catalog.current(),
        sku: c.sku,
        quantity: c.quantity,
        ...(c.validFrom ? { validFrom: new Date(c.validFrom).toISOString() } : {}),
        origin: { kind: 'manual' },
      },
      metadata,
    };
  }
}
