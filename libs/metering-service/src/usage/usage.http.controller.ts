import { Body, Controller, Get, HttpCode, Param, Post, Query as QueryParams } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsNumber, Max, Min } from 'class-validator';
import { usageBatchSchemaV1, usageEventSchemaV1, type UsageResultV1 } from '@el/contracts';
import { meterStanding } from '@el/domain';
import { Access, Clock, CodedError, Ctx, IdParamPipe, JsonSchemaPipe, openApiSchema as toOpenApi, OptionalField, seesCustomer, type RequestContext } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';
import { UsageCounters } from './usage-counters';
import { UsageLedger } from './usage-ledger';
import { UsageAlerts } from './usage-alerts';

export class UsageParams {
  @ApiPropertyOptional({ description: 'The instant whose periods to show (default now)', example: '2026-12-01T00:00:00Z' }) @OptionalField() @IsISO8601({ strict: true }) at?: string;
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
  ) {}

  @Post('v1/usage')
  @HttpCode(200)
  @Access('usage:report')
  @ApiOperation({
    summary: 'Report usage: up to 1,000 CloudEvents-shaped events, one result per event',
    description:
      'Each (source, id) has exactly one effect: a repeated event with the same payload answers duplicate and changes nothing; the same (source, id) with another payload is rejected (USAGE.ID_REUSED). ' +
      'Refused per event with a code: VALIDATION_FAILED (with paths), USAGE.UNKNOWN_CUSTOMER, USAGE.UNKNOWN_FEATURE, USAGE.UNKNOWN_ENTITLEMENT, USAGE.TIME_IN_FUTURE, USAGE.TOO_LATE, USAGE.BEFORE_ENTITLEMENT. ' +
      'Counted against the entitlement named in data.entitlementId, else the customer’s entitlement that meters the feature, in the period anchored at the entitlement’s start.',
  })
  @ApiBody({ schema: { ...(toOpenApi(usageBatchSchemaV1) as object), properties: { events: { type: 'array', maxItems: 1000, items: toOpenApi(usageEventSchemaV1) } } } as never })
  @ApiOkResponse({
    description:
      '{results: [{source, id, status: accepted|duplicate|rejected, code?, reason?, errors?, position?, entitlementId?}], accepted, duplicates, rejected, position}. ' +
      'position (read-your-usage): pass it as minUsagePosition to POST /v1/check for the customer whose usage this was; with events of several customers, pass each customer the position of one of its own results.',
  })
  async report(@Body(new JsonSchemaPipe(usageBatchSchemaV1)) body: { events: unknown[] }, @Ctx() ctx: RequestContext): Promise<UsageBatchAnswer> {
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
    if (!seesCustomer(ctx.principal, customerId) || this.registry.ofCustomer(customerId).length === 0) throw new CodedError('CUSTOMER.NOT_FOUND', `customer ${customerId} has no entitlement`);
    return { customerId, items: await this.alerts.ofCustomer(customerId) };
  }

  @Get('v1/customers/:customerId/usage')
  @Access('usage:read')
  @ApiOperation({ summary: "A customer's metered features in their current periods: cap, used, remaining, overage" })
  @ApiOkResponse({ description: '{customerId, at, position, meters: [{entitlementId, feature, period, periodStart, periodEnd, cap, capType, used, remaining, overage}]}' })
  usage(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() p: UsageParams, @Ctx() ctx: RequestContext) {
    const owned = seesCustomer(ctx.principal, customerId) ? this.registry.ofCustomer(customerId) : [];
    if (owned.length === 0) throw new CodedError('CUSTOMER.NOT_FOUND', `customer ${customerId} has no entitlement`);
    const at = p.at !== undefined ? Date.parse(p.at) : this.clock.nowMs();
    const meters = owned.flatMap((e) =>
      Object.entries(e.meters).map(([feature, meter]) => {
        const w = this.registry.periodOf(e, meter.period, at);
        return { entitlementId: e.entitlementId, feature, period: meter.period, periodStart: w.start, periodEnd: w.end, capType: meter.capType, ...meterStanding(meter, this.counters.value(e.entitlementId, feature, w.start)) };
      }),
    );
    return { customerId, at: new Date(at).toISOString(), position: this.counters.position, meters };
  }
}
