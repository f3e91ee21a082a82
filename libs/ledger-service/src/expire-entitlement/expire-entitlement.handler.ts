import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '@el/platform';
import { EntitlementChanges, type EntitlementWriteResult } from '../entitlements/entitlement-changes';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { ExpireEntitlementCommand } from './expire-entitlement.command';

@CommandHandler(ExpireEntitlementCommand)
export class ExpireEntitlementHandler implements ICommandHandler<ExpireEntitlementCommand, EntitlementWriteResult> {
  constructor(
    private readonly changes: EntitlementChanges,
    private readonly clock: Clock,
  ) {}

  execute(c: ExpireEntitlementCommand): Promise<EntitlementWriteResult> {
    const metadata = commandMetadata(systemContext('expiry-sweeper', `expiry-${c.entitlementId}`), this.clock);
    return this.changes.apply(c.entitlementId, { type: 'ExpireEntitlement', data: {}, metadata }, { commandId: `expire:${c.entitlementId}:${c.validUntil}` });
  }
}
