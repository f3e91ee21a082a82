import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { DomainError } from '@el/domain';
import { Clock } from '@el/platform';
import { ReadModelQueries } from '@el/read-models';
import { PeriodicSweep } from '../infrastructure/periodic-sweep';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { ExpireEntitlementCommand } from './expire-entitlement.command';

/**
 * Records `EntitlementExpired` for entitlements whose validity and grace have
 * passed. Checks never depend on it (the decision function compares times
 * itself); it makes the expiry part of the history. The command id is derived
 * from the entitlement and its end date, so several ledger instances sweeping
 * at once write one event. Candidates come from the read models; the decider
 * re-checks each against its stream.
 */
@Injectable()
export class ExpirySweeper extends PeriodicSweep<number> {
  constructor(
    @Inject(LEDGER_CONFIG) config: LedgerConfig,
    private readonly readModels: ReadModelQueries,
    private readonly commands: CommandBus,
    private readonly clock: Clock,
  ) {
    super('expiry', config.EXPIRY_SWEEP_INTERVAL_MS, 0);
  }

  /** One pass; returns how many entitlements were recorded as expired. */
  protected async pass(): Promise<number> {
    let expired = 0;
    const now = this.clock.now();
    for (const e of await this.readModels.dueToExpire(now)) {
      try {
        const r = await this.commands.execute(new ExpireEntitlementCommand(e.entitlementId, e.validUntil!));
        if (r.events.length > 0 && !r.replayed) expired += 1;
      } catch (err) {
        // Renewed or revoked in the meantime: nothing to record.
        if (!(err instanceof DomainError)) this.logger.error({ err, entitlementId: e.entitlementId }, 'expiry failed');
      }
    }
    if (expired > 0) this.logger.log({ expired }, 'entitlements expired');
    return expired;
  }
}
