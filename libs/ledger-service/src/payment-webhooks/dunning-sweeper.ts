import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@el/platform';
import { ReadModelQueries } from '@el/read-models';
import { PeriodicSweep } from '../infrastructure/periodic-sweep';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { DunningProcess } from './dunning-process';

/**
 * Every PAYMENT_DUNNING_SWEEP_INTERVAL_MS: suspends the customers whose
 * dunning grace has run out with an invoice still unpaid, and finishes
 * reinstatements a crash interrupted. Candidates come from the read models
 * (`rm_dunning`); each is decided again on its stream, and every entitlement
 * command is keyed by the case, so a restart, a second pass or several
 * ledger instances sweeping at once change each entitlement once.
 */
@Injectable()
export class DunningSweeper extends PeriodicSweep<string[]> {
  constructor(
    @Inject(LEDGER_CONFIG) config: LedgerConfig,
    private readonly readModels: ReadModelQueries,
    private readonly dunning: DunningProcess,
    private readonly clock: Clock,
  ) {
    super('dunning', config.PAYMENT_DUNNING_SWEEP_INTERVAL_MS, []);
  }

  /** One pass; returns the customers whose dunning changed something. */
  protected async pass(): Promise<string[]> {
    const changed: string[] = [];
    for (const row of await this.readModels.dunningDue(this.clock.now())) {
      try {
        const r = await this.dunning.advance(row.customerId);
        if (r.events.length > 0) changed.push(row.customerId);
      } catch (err) {
        this.logger.error({ err, customerId: row.customerId }, 'dunning step failed; the next sweep tries again');
      }
    }
    return changed;
  }
}
