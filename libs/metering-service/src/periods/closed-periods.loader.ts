import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '@el/platform';
import { METERING_CONFIG, type MeteringConfig } from '../metering.config';
import { ClosedPeriods } from './closed-periods';
import { UsagePeriodStore } from './usage-period-store';

/** The longest period (a leap year), in ms: a period that started earlier than this before a moment has ended by then. */
const LONGEST_PERIOD_MS = 366 * 86_400_000;

/** Loads the closed periods at start: those recent enough to still receive usage, and where the closer carries on for each meter. */
@Injectable()
export class ClosedPeriodsLoader implements OnApplicationBootstrap {
  constructor(
    @Inject(METERING_CONFIG) private readonly config: MeteringConfig,
    private readonly store: UsagePeriodStore,
    private readonly closed: ClosedPeriods,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.load();
  }

  async load(): Promise<void> {
    const since = new Date(this.clock.nowMs() - this.config.USAGE_LATENESS_HOURS * 3_600_000 - LONGEST_PERIOD_MS).toISOString();
    for (const ref of await this.store.closedSince(since)) this.closed.add(ref);
    for (const ref of await this.store.latestCloses()) this.closed.advance(ref);
  }
}
