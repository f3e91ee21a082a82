import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '@el/platform';
import { ReadModelQueries } from '@el/read-models';
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
export class DunningSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('dunning');
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    private readonly readModels: ReadModelQueries,
    private readonly dunning: DunningProcess,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.PAYMENT_DUNNING_SWEEP_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => void this.sweep().catch((err) => this.logger.error({ err }, 'dunning sweep failed')), this.config.PAYMENT_DUNNING_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass; returns the customers whose dunning changed something. */
  async sweep(): Promise<string[]> {
    if (this.running) return [];
    this.running = true;
    const changed: string[] = [];
    try {
      for (const row of await this.readModels.dunningDue(this.clock.now())) {
        try {
          const r = await this.dunning.advance(row.customerId);
          if (r.events.length > 0) changed.push(row.customerId);
        } catch (err) {
          this.logger.error({ err, customerId: row.customerId }, 'dunning step failed; the next sweep tries again');
        }
      }
    } finally {
      this.running = false;
    }
    return changed;
  }
}
