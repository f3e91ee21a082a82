import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { UsageCorrectionResultV1 } from '@el/contracts';
import { periodWindow, usagePeriodStream, UsagePeriodRejected, type UsageCorrected } from '@el/domain';
import { Clock, deterministicId, hashOf, seesCustomer, validationFailed } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';
import { MeteringError } from '../metering.errors';
import { UsagePeriodStore } from '../periods/usage-period-store';
import { actorLabel, meteringMetadata, UsagePeriodStreams } from '../periods/usage-period-streams';
import { UsageCounters } from '../usage/usage-counters';
import { CorrectUsageCommand } from './correct-usage.command';

/**
 * A correction: recorded first in the period's stream (UsageCorrected — who,
 * why, when; refused once the period is closed), then applied to the metering
 * store (its row and the counter move in one transaction, once per
 * correctionId), then to the in-memory counters. A crash between the two
 * writes is repaired by a retry of the same correction, and at the latest by
 * the period's close, which applies what its stream holds before counting.
 * The raw usage events are never touched.
 */
@CommandHandler(CorrectUsageCommand)
export class CorrectUsageHandler implements ICommandHandler<CorrectUsageCommand, UsageCorrectionResultV1> {
  constructor(
    private readonly registry: MeterRegistry,
    private readonly store: UsagePeriodStore,
    private readonly streams: UsagePeriodStreams,
    private readonly counters: UsageCounters,
    private readonly clock: Clock,
  ) {}

  async execute({ correction: c, ctx }: CorrectUsageCommand): Promise<UsageCorrectionResultV1> {
    const r = seesCustomer(ctx.principal, c.customerId) ? this.registry.resolve(c.customerId, c.feature, c.entitlementId) : ({ refused: 'USAGE.UNKNOWN_CUSTOMER', reason: `customer ${c.customerId} has no entitlement` } as const);
    if ('refused' in r) throw new MeteringError(r.refused, r.reason, { customerId: c.customerId, entitlementId: c.entitlementId, feature: c.feature });
    const { entitlement: e, meter } = r;
    // Sums, counts and distinct counts move by a quantity; a period's maximum does not (report the right value instead).
    if (meter.aggregation === 'max') throw new MeteringError('USAGE.CORRECTION_INVALID', `${c.feature} keeps the period's maximum; a maximum cannot be corrected by a quantity`, { feature: c.feature, aggregation: 'max' });
    const atMs = Date.parse(c.periodStart ?? c.time!);
    if (Number.isNaN(atMs)) throw validationFailed([{ path: c.periodStart !== undefined ? 'periodStart' : 'time', message: 'must be a date-time with seconds 00–59 (no leap second)', constraint: 'format' }]);
    // Counts move by whole events or users.
    if ((meter.aggregation === 'count' || meter.aggregation === 'unique_count') && !Number.isInteger(c.quantity)) {
      throw new MeteringError('USAGE.CORRECTION_INVALID', `${c.feature} counts ${meter.aggregation === 'count' ? 'events' : 'distinct values'}; a correction moves it by a whole number`, { feature: c.feature, aggregation: meter.aggregation });
    }
    if (atMs < Date.parse(e.validFrom)) throw new MeteringError('USAGE.BEFORE_ENTITLEMENT', `entitlement ${e.entitlementId} starts at ${e.validFrom}`, { validFrom: e.validFrom });
    const w = periodWindow(e.validFrom, meter.period, atMs);
    if (c.periodStart !== undefined && w.start !== new Date(atMs).toISOString()) {
      throw new MeteringError('USAGE.NOT_A_PERIOD_START', `${c.periodStart} is not the start of a ${meter.period} period of entitlement ${e.entitlementId} (the period containing it starts at ${w.start})`, { periodStart: w.start });
    }
    if (Date.parse(w.start) > this.clock.nowMs()) throw new MeteringError('USAGE.TIME_IN_FUTURE', `the period from ${w.start} has not started`, { periodStart: w.start });

    const corrects = c.corrects ?? [];
    const fingerprint = hashOf({ customerId: c.customerId, entitlementId: e.entitlementId, feature: c.feature, periodStart: w.start, quantity: c.quantity, reason: c.reason, corrects });
    // The same id for another period goes to another stream: the store's row catches it first.
    const stored = await this.store.correction(c.correctionId);
    if (stored && stored.fingerprint !== fingerprint) throw new UsagePeriodRejected('USAGE.CORRECTION_ID_REUSED', `correction ${c.correctionId} was already recorded with another content; corrections never change (send another one)`, { correctionId: c.correctionId });
    // Usage never goes below zero: a credit larger than the usage would lift a hard cap beyond what was bought.
    const current = this.counters.value(e.entitlementId, c.feature, w.start);
    if (!stored && current + c.quantity < 0) throw new MeteringError('USAGE.CORRECTION_INVALID', `${c.feature} has ${current} in the period from ${w.start}; a correction of ${c.quantity} would take it below zero`, { used: current, quantity: c.quantity });

    const stream = usagePeriodStream(e.entitlementId, c.feature, w.start);
    const key = { customerId: c.customerId, entitlementId: e.entitlementId, feature: c.feature, period: meter.period, periodStart: w.start, periodEnd: w.end };
    const write = await this.streams.decide(stream, deterministicId('usage-correction', c.correctionId), async () => ({
      type: 'CorrectUsage',
      data: { ...key, correctionId: c.correctionId, quantity: c.quantity, reason: c.reason, corrects, fingerprint },
      metadata: meteringMetadata(ctx, this.clock.now()),
    }));
    const recorded = write.events[0] ?? write.loaded.recorded.find((x) => x.type === 'UsageCorrected' && (x.data as UsageCorrected['data']).correctionId === c.correctionId);
    if (!recorded) throw new Error(`correction ${c.correctionId} was neither written nor found in ${stream}`);
    const data = recorded.data as UsageCorrected['data'];
    const applied = await this.store.applyCorrection(data, actorLabel((recorded.metadata as { actor: UsageCorrected['metadata']['actor'] }).actor));
    if (applied.applied) this.counters.set(data.entitlementId, data.feature, data.periodStart, applied.value!, applied.counterPosition!);
    return {
      correctionId: data.correctionId,
      customerId: data.customerId,
      entitlementId: data.entitlementId,
      feature: data.feature,
      periodStart: data.periodStart,
      periodEnd: data.periodEnd,
      quantity: data.quantity,
      position: applied.position,
      eventPosition: recorded.position,
      replayed: write.replayed || write.events.length === 0,
    };
  }
}
