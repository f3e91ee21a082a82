import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { periodWindow, usagePeriodStream, type Actor, type UsageCorrected, type UsagePeriodClosed } from '@el/domain';
import { Clock, deterministicId, systemPrincipal, type RequestContext } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';
import { METERING_CONFIG, type MeteringConfig } from '../metering.config';
import { ClosedPeriods } from '../periods/closed-periods';
import { UsagePeriodStore } from '../periods/usage-period-store';
import { actorLabel, meteringMetadata, UsagePeriodStreams, type LoadedPeriod } from '../periods/usage-period-streams';
import { UsageCounters } from '../usage/usage-counters';
import { CloseUsagePeriodCommand, type CloseUsagePeriodResult } from './close-usage-period.command';

const CLOSER = 'usage-period-closer';

/** How long after its end a period closes: the lateness window plus a settling margin. */
export function closeDelayMs(config: Pick<MeteringConfig, 'USAGE_LATENESS_HOURS' | 'USAGE_CLOSE_SETTLE_SECONDS'>): number {
  return config.USAGE_LATENESS_HOURS * 3_600_000 + config.USAGE_CLOSE_SETTLE_SECONDS * 1000;
}

/**
 * Closes a period: the totals the metering store counted (the counter, its raw
 * events' count and position range) with the corrections the period's stream
 * holds, recorded once as UsagePeriodClosed by the system principal. Before
 * counting, corrections the stream holds but the store has not applied yet (a
 * crash between the two writes) are applied, so the store and the close agree.
 */
@CommandHandler(CloseUsagePeriodCommand)
export class CloseUsagePeriodHandler implements ICommandHandler<CloseUsagePeriodCommand, CloseUsagePeriodResult> {
  private readonly logger = new Logger(CLOSER);

  constructor(
    @Inject(METERING_CONFIG) private readonly config: MeteringConfig,
    private readonly registry: MeterRegistry,
    private readonly store: UsagePeriodStore,
    private readonly streams: UsagePeriodStreams,
    private readonly closedPeriods: ClosedPeriods,
    private readonly counters: UsageCounters,
    private readonly clock: Clock,
  ) {}

  async execute(c: CloseUsagePeriodCommand): Promise<CloseUsagePeriodResult> {
    const e = this.registry.get(c.entitlementId);
    const meter = e?.meters[c.feature];
    if (!e || !meter) return { closed: null, recorded: false };
    const w = periodWindow(e.validFrom, meter.period, Date.parse(c.periodStart));
    if (w.start !== c.periodStart) {
      this.logger.warn({ entitlementId: c.entitlementId, feature: c.feature, periodStart: c.periodStart }, 'not a period start of this meter: left open');
      return { closed: null, recorded: false };
    }
    const key = { customerId: e.customerId, entitlementId: e.entitlementId, feature: c.feature, period: meter.period, periodStart: w.start, periodEnd: w.end };
    const stream = usagePeriodStream(e.entitlementId, c.feature, w.start);
    const ctx: RequestContext = { requestId: `close:${stream}`, correlationId: `close:${stream}`, actor: { type: 'system', id: CLOSER }, principal: systemPrincipal(CLOSER), source: 'system' };
    const write = await this.streams.decide(stream, deterministicId('usage-period-closed', stream), async (loaded) => {
      // Closed already: the decider records nothing, whatever the figures.
      if (loaded.state.status !== 'closed') await this.applyRecordedCorrections(loaded);
      const f = loaded.state.status === 'closed' ? { usage: 0, events: 0, firstPosition: null, lastPosition: null, throughPosition: 0 } : await this.store.figures({ entitlementId: e.entitlementId, feature: c.feature, periodStart: w.start });
      return {
        type: 'CloseUsagePeriod',
        data: { ...key, included: meter.cap, capType: meter.capType, usage: f.usage, events: f.events, firstPosition: f.firstPosition, lastPosition: f.lastPosition, throughPosition: f.throughPosition, closableAt: new Date(Date.parse(w.end) + closeDelayMs(this.config)).toISOString() },
        metadata: meteringMetadata(ctx, this.clock.now()),
      };
    });
    const record = [...write.events, ...write.loaded.recorded].find((r) => r.type === 'UsagePeriodClosed');
    if (!record) return { closed: null, recorded: false };
    const closed = record.data as UsagePeriodClosed['data'];
    await this.store.recordClose(closed, record.position);
    this.closedPeriods.add({ entitlementId: e.entitlementId, feature: c.feature, periodStart: w.start });
    return { closed, recorded: write.events.length > 0 && !write.replayed };
  }

  /** Corrections in the stream the store may not have applied yet (idempotent by correctionId). */
  private async applyRecordedCorrections(loaded: LoadedPeriod): Promise<void> {
    for (const r of loaded.recorded) {
      if (r.type !== 'UsageCorrected') continue;
      const data = r.data as UsageCorrected['data'];
      const applied = await this.store.applyCorrection(data, actorLabel((r.metadata as { actor: Actor }).actor));
      if (applied.applied) this.counters.set(data.entitlementId, data.feature, data.periodStart, applied.value!, applied.counterPosition!);
    }
  }
}
