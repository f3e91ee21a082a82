import { Body, Controller, Get, HttpCode, Param, Post, Query as QueryParams } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsNumber, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { usageBatchSchemaV1, usageEventSchemaV1, type UsageResultV1 } from '@el/contracts';
import { meterStanding } from '@el/domain';
import { Access, Clock, CodedError, validationFailed, Ctx, IdParamPipe, JsonSchemaPipe, openApiSchema as toOpenApi, OptionalField, seesCustomer, type RequestContext } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';
import { MeterFeedCatchUp } from '../meters/meter-feed-catch-up';
import { UsageCounters } from './usage-counters';
import { UsageLedger } from './usage-ledger';
import { UsageAlerts } from './usage-alerts';
import { MAX_SERIES_POINTS, UsageSeries, type SeriesGroup, type WindowSize } from './usage-series';

const PERIOD_PARAM = /^(current|previous|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))$/;
const DAY_MS = 86_400_000;

export class UsageParams {
  @ApiPropertyOptional({ description: 'Which period of each meter: `current` (default), `previous`, or an instant (ISO-8601) — the period that contains it', example: 'previous' })
  @OptionalField()
  @Matches(PERIOD_PARAM, { message: 'period must be current, previous, or an ISO-8601 instant like 2026-11-15T00:00:00Z' })
  @MaxLength(40)
  period?: string;
  @ApiPropertyOptional({ description: 'Deprecated alias of period=<instant>', example: '2026-12-01T00:00:00Z' }) @OptionalField() @IsISO8601({ strict: true }) at?: string;
}

export class SeriesParams {
  @ApiProperty({ description: 'The metered feature', example: 'render_minutes' }) @IsString() @Length(1, 128) feature!: string;
  @ApiPropertyOptional({ description: 'The entitlement (default: the customer’s entitlement that meters the feature, active first)' }) @OptionalField() @IsString() @Length(1, 128) entitlementId?: string;
  @ApiPropertyOptional({ enum: ['hour', 'day'], default: 'day' }) @OptionalField() @IsIn(['hour', 'day']) windowSize?: WindowSize;
  @ApiPropertyOptional({ enum: ['userId', 'deviceId'], description: 'One series per user or device' }) @OptionalField() @IsIn(['userId', 'deviceId']) groupBy?: SeriesGroup;
  @ApiPropertyOptional({ description: 'Start (inclusive, ISO-8601; default the start of the current period)' }) @OptionalField() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'End (exclusive, ISO-8601; default the end of the current period)' }) @OptionalField() @IsISO8601({ strict: true }) to?: string;
}

export class NearCapParams {
  @ApiPropertyOptional({ description: 'Share of the cap used, from 0 to 10 (default 0.8)', default: 0.8, minimum: 0, maximum: 10 })
  @OptionalField()
  @Type(() => Number)
  @Min(0)
  @Max(10)
  @IsNumber()
  threshold?: number;
  @ApiPropertyOptional({ description: 'Most rows (1–1000, default 100)', default: 100, minimum: 1, maximum: 1000 })
  @OptionalField()
  @Type(() => Number)
  @Min(1)
  @Max(1000)
  @IsInt()
  limit?: number;
}

export interface UsageBatchAnswer {
  readonly results: readonly UsageResultV1[];
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  /**
   * The highest position of this batch's accepted and duplicate events (0 when every event was
   * refused): a check passing it as `minUsagePosition` for the batch's customer sees this usage
   * (in this process at once; in an enforcement service once metering.counters.v1 brought it).
   */
  readonly position: number;
}

@ApiTags('usage')
@Controller()
export class UsageController {
  constructor(
    private readonly ledger: UsageLedger,
    private readonly registry: MeterRegistry,
    private readonly counters: UsageCounters,
    private readonly clock: Clock,
    private readonly alerts: UsageAlerts,
    private readonly series: UsageSeries,
    private readonly catchUp: MeterFeedCatchUp,
  ) {}

  @Post('v1/usage')
  @HttpCode(200)
  @Access('usage:report')
  @ApiOperation({
    summary: 'Report usage: up to 1,000 CloudEvents-shaped events, one result per event',
    description:
      'Each (source, id) has exactly one effect: a repeated event with the same payload answers duplicate and changes nothing; the same (source, id) with another payload is rejected (USAGE.ID_REUSED). ' +
      'Refused per event with a code: VALIDATION_FAILED (with paths), USAGE.UNKNOWN_CUSTOMER, USAGE.UNKNOWN_FEATURE, USAGE.UNKNOWN_ENTITLEMENT, USAGE.TIME_IN_FUTURE, USAGE.TOO_LATE, USAGE.BEFORE_ENTITLEMENT, USAGE.MISSING_FIELD (a unique-count meter’s field), USAGE.ENTITLEMENT_ENDED (after the term and grace, or the revocation), USAGE.PERIOD_CLOSED. ' +
      '503 METERING.CATCHING_UP with Retry-After right after a start, until the meters are read (retry: nothing was recorded). ' +
      'Counted against the entitlement named in data.entitlementId, else the customer’s entitlement that meters the feature, in the period anchored at the entitlement’s start.',
  })
  @ApiBody({ schema: { ...(toOpenApi(usageBatchSchemaV1) as object), properties: { events: { type: 'array', maxItems: 1000, items: toOpenApi(usageEventSchemaV1) } } } as never })
  @ApiOkResponse({
    description:
      '{results: [{source, id, status: accepted|duplicate|rejected, code?, reason?, errors?, position?, entitlementId?}], accepted, duplicates, rejected, position}. ' +
      'position (read-your-usage): pass it as minUsagePosition to POST /v1/check for the customer whose usage this was; with events of several customers, pass each customer the position of one of its own results.',
  })
  async report(@Body(new JsonSchemaPipe(usageBatchSchemaV1)) body: { events: unknown[] }, @Ctx() ctx: RequestContext): Promise<UsageBatchAnswer> {
    if (!this.catchUp.isReady) throw new CodedError('METERING.CATCHING_UP', 'the metering service is still reading the entitlements it meters (just started); retry shortly', { retryAfterSeconds: 1, behind: this.catchUp.behind });
    const results = await this.ledger.ingest(body.events, ctx.principal);
    const count = (s: UsageResultV1['status']) => results.filter((r) => r.status === s).length;
    // This batch's own position, not the process's newest: another customer's later ingest must not make the wait for this one's longer.
    const position = results.reduce((max, r) => (r.position !== undefined && r.position > max ? r.position : max), 0);
    return { results, accepted: count('accepted'), duplicates: count('duplicate'), rejected: count('rejected'), position };
  }

  @Get('v1/usage/near-cap')
  @Access('usage:read')
  @ApiOperation({ summary: 'Meters at or over a share of their cap in their current period, fullest first: the customers to offer an upgrade (operators)' })
  @ApiOkResponse({ description: '{threshold, at, items: [{customerId, entitlementId, feature, period, periodStart, periodEnd, cap, capType, used, remaining, overage, share}]}' })
  nearCap(@QueryParams() p: NearCapParams, @Ctx() ctx: RequestContext) {
    const threshold = p.threshold ?? 0.8;
    const at = this.clock.nowMs();
    const items = [];
    for (const e of this.registry.all()) {
      if (!seesCustomer(ctx.principal, e.customerId) || e.status === 'revoked') continue;
      for (const [feature, meter] of Object.entries(e.meters)) {
        const w = this.registry.periodOf(e, meter.period, at);
        const used = this.counters.value(e.entitlementId, feature, w.start);
        if (meter.cap > 0 && used / meter.cap >= threshold) {
          items.push({ customerId: e.customerId, entitlementId: e.entitlementId, feature, period: meter.period, periodStart: w.start, periodEnd: w.end, capType: meter.capType, ...meterStanding(meter, used), share: Math.round((used / meter.cap) * 1000) / 1000 });
        }
      }
    }
    items.sort((a, b) => b.share - a.share);
    return { threshold, at: new Date(at).toISOString(), items: items.slice(0, p.limit ?? 100) };
  }

  @Get('v1/customers/:customerId/alerts')
  @Access('usage:read')
  @ApiOperation({ summary: "A customer's usage alerts, newest first: each threshold of a cap (USAGE_ALERT_THRESHOLDS, default 80 and 100 %) once per period" })
  @ApiOkResponse({ description: '{customerId, items: [{id, entitlementId, feature, periodStart, threshold, cap, capType, used, position, raisedAt}]}' })
  async alertsOf(@Param('customerId', IdParamPipe) customerId: string, @Ctx() ctx: RequestContext) {
    this.visible(customerId, ctx);
    return { customerId, items: await this.alerts.ofCustomer(customerId) };
  }

  @Get('v1/customers/:customerId/usage')
  @Access('usage:read')
  @ApiOperation({
    summary: "A customer's metered features in one period: cap, used, remaining, overage",
    description: 'period=current (default), previous, or an instant: each meter’s period that contains it. Periods are anchored at the entitlement’s start, UTC (a monthly meter of an entitlement that began on the 14th at 09:30 runs from the 14th 09:30 to the next 14th 09:30).',
  })
  @ApiOkResponse({ description: '{customerId, at, position, meters: [{entitlementId, feature, period, aggregation, periodStart, periodEnd, cap, capType, used, remaining, overage}]}' })
  usage(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() p: UsageParams, @Ctx() ctx: RequestContext) {
    const owned = this.visible(customerId, ctx);
    const now = this.clock.nowMs();
    const instant = p.period && p.period !== 'current' && p.period !== 'previous' ? Date.parse(p.period) : p.at !== undefined ? Date.parse(p.at) : now;
    if (Number.isNaN(instant)) throw validationFailed([{ path: 'period', message: 'must be current, previous, or an ISO-8601 instant', constraint: 'format' }]);
    const meters = owned.flatMap((e) =>
      Object.entries(e.meters).map(([feature, meter]) => {
        const current = this.registry.periodOf(e, meter.period, instant);
        // The previous period ends where the current one starts.
        const w = p.period === 'previous' ? this.registry.periodOf(e, meter.period, Date.parse(current.start) - 1) : current;
        return { entitlementId: e.entitlementId, feature, period: meter.period, aggregation: meter.aggregation ?? 'sum', ...(meter.of ? { of: meter.of } : {}), periodStart: w.start, periodEnd: w.end, capType: meter.capType, ...meterStanding(meter, this.counters.value(e.entitlementId, feature, w.start)) };
      }),
    );
    return { customerId, at: new Date(instant).toISOString(), position: this.counters.position, meters };
  }

  @Get('v1/customers/:customerId/usage/series')
  @Access('usage:read')
  @ApiOperation({
    summary: "A metered feature's usage over time: one point per hour or day (UTC), optionally per user or device",
    description: `Aggregated as the meter says (sum, count, max, distinct values), from the raw usage events. Default range: the current period. At most ${MAX_SERIES_POINTS} points (then truncated: true); hourly windows over at most 93 days.`,
  })
  @ApiOkResponse({ description: '{customerId, entitlementId, feature, aggregation, windowSize, groupBy, from, to, cap, truncated, points: [{windowStart, group?, value, events}]}' })
  async seriesOf(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() p: SeriesParams, @Ctx() ctx: RequestContext) {
    this.visible(customerId, ctx);
    const r = this.registry.resolve(customerId, p.feature, p.entitlementId);
    if ('refused' in r) throw new CodedError(r.refused === 'USAGE.UNKNOWN_ENTITLEMENT' ? 'ENTITLEMENT.NOT_FOUND' : 'USAGE.UNKNOWN_FEATURE', r.reason);
    const w = this.registry.periodOf(r.entitlement, r.meter.period, this.clock.nowMs());
    const from = p.from !== undefined ? new Date(Date.parse(p.from)).toISOString() : w.start;
    const to = p.to !== undefined ? new Date(Date.parse(p.to)).toISOString() : w.end;
    const windowSize = p.windowSize ?? 'day';
    const span = Date.parse(to) - Date.parse(from);
    if (!(span > 0)) throw validationFailed([{ path: 'to', message: 'to must be after from', constraint: 'range' }]);
    if (windowSize === 'hour' && span > 93 * DAY_MS) throw validationFailed([{ path: 'windowSize', message: 'hourly windows span at most 93 days between from and to; use windowSize=day', constraint: 'range' }]);
    const firstPeriodStart = this.registry.periodOf(r.entitlement, r.meter.period, Math.max(Date.parse(from), Date.parse(r.entitlement.validFrom))).start;
    const { points, truncated } = await this.series.of({ customerId, entitlementId: r.entitlement.entitlementId, feature: p.feature, meter: r.meter, from, to, firstPeriodStart, windowSize, ...(p.groupBy ? { groupBy: p.groupBy } : {}) });
    return { customerId, entitlementId: r.entitlement.entitlementId, feature: p.feature, aggregation: r.meter.aggregation ?? 'sum', windowSize, groupBy: p.groupBy ?? null, from, to, cap: r.meter.cap, truncated, points };
  }

  /** The customer's metered entitlements, when the principal sees the customer; else as if it had none. */
  private visible(customerId: string, ctx: RequestContext) {
    const owned = seesCustomer(ctx.principal, customerId) ? this.registry.ofCustomer(customerId) : [];
    if (owned.length === 0) throw new CodedError('CUSTOMER.NOT_FOUND', `customer ${customerId} has no entitlement`);
    return owned;
  }
}
