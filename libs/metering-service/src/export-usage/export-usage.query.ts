import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { periodWindow, type UsagePeriodClosed } from '@el/domain';
import { Clock, seesCustomer, validationFailed, type Principal } from '@el/platform';
import { MeterRegistry, type MeteredEntitlement } from '../meters/meter-registry';
import { MeteringError } from '../metering.errors';
import { UsagePeriodStore, type PeriodFigures, type PeriodRef, type PeriodStartRange } from '../periods/usage-period-store';
import { CONTENT_TYPES, formatExport, LINE_COLUMNS, SUMMARY_COLUMNS, type ExportFormat, type ExportRow } from './usage-export.format';

export interface UsageExport {
  readonly contentType: string;
  /** The export's text in pieces, produced as they are read (never the whole export in memory). */
  readonly body: AsyncIterable<string>;
  readonly filename: string;
}

/** A billing export: the periods whose start lies in `period` (a month `YYYY-MM`, UTC, or one exact period start). */
export class ExportUsageQuery extends Query<UsageExport> {
  constructor(
    readonly period: string,
    readonly format: ExportFormat,
    readonly lines: 'summary' | 'events',
    readonly viewer: Principal,
    readonly customerId?: string,
  ) {
    super();
  }
}

/** `[from, to)` of period starts for `YYYY-MM` (the calendar month, UTC) or an exact instant. */
export function periodRange(period: string): PeriodStartRange {
  const month = /^(\d{4})-(\d{2})$/.exec(period);
  if (month) {
    const y = Number(month[1]);
    const m = Number(month[2]);
    if (m < 1 || m > 12) throw validationFailed([{ path: 'period', message: 'period must be a month YYYY-MM or a period start (ISO-8601)', constraint: 'format' }]);
    return { from: new Date(Date.UTC(y, m - 1, 1)).toISOString(), to: new Date(Date.UTC(y, m, 1)).toISOString() };
  }
  const at = Date.parse(period);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(period) || Number.isNaN(at)) throw validationFailed([{ path: 'period', message: 'period must be a month YYYY-MM or a period start (ISO-8601)', constraint: 'format' }]);
  return { from: new Date(at).toISOString(), to: new Date(at + 1).toISOString() };
}

const num = (v: number | null | undefined): number | null => (v === undefined || v === null ? null : v);

/**
 * The billing export, per customer, entitlement, meter and period (sorted in
 * that order): included quantity, usage, corrections, billable, overage, the
 * raw events' count and position range, and whether the period is closed. A
 * closed period's row is its UsagePeriodClosed record, and its lines are the
 * rows at or before the record's `throughPosition` (no usage or correction
 * enters a closed period), so a closed period's export never changes — not
 * after a rebuild of the counters either. An open period's row is computed from
 * the store now. Scoped principals see only their customers.
 */
@QueryHandler(ExportUsageQuery)
export class ExportUsageHandler implements IQueryHandler<ExportUsageQuery, UsageExport> {
  constructor(
    private readonly registry: MeterRegistry,
    private readonly store: UsagePeriodStore,
    private readonly clock: Clock,
  ) {}

  async execute(q: ExportUsageQuery): Promise<UsageExport> {
    const range = periodRange(q.period);
    if (q.customerId !== undefined && (!seesCustomer(q.viewer, q.customerId) || this.registry.ofCustomer(q.customerId).length === 0)) {
      throw new MeteringError('CUSTOMER.NOT_FOUND', `customer ${q.customerId} has no entitlement`, { customerId: q.customerId });
    }
    const entitlements = (q.customerId !== undefined ? this.registry.ofCustomer(q.customerId) : [...this.registry.all()])
      .filter((e) => seesCustomer(q.viewer, e.customerId))
      .sort((a, b) => cmp(a.customerId, b.customerId) || cmp(a.entitlementId, b.entitlementId));
    const rows = q.lines === 'events' ? this.lines(entitlements, range) : this.summaries(entitlements, range, q);
    return {
      contentType: CONTENT_TYPES[q.format],
      body: formatExport(rows, q.lines === 'events' ? LINE_COLUMNS : SUMMARY_COLUMNS, q.format),
      filename: `usage-${q.period.replace(/[^0-9A-Za-z-]/g, '')}${q.lines === 'events' ? '-events' : ''}.${q.format}`,
    };
  }

  /** One entitlement's periods in the range: the meters' periods so far, and any closed or counted one (a meter since removed from the plan). */
  private async periodsOf(e: MeteredEntitlement, range: PeriodStartRange): Promise<{ ref: PeriodRef; closed: UsagePeriodClosed['data'] | null; open: Omit<PeriodFigures, 'throughPosition'> | null }[]> {
    const closes = new Map((await this.store.closesOf(e.entitlementId, range)).map((c) => [`${c.feature}\u0000${c.periodStart}`, c]));
    const open = await this.store.openFiguresOf(e.entitlementId, range);
    const keys = new Set([...closes.keys(), ...open.keys()]);
    const now = this.clock.nowMs();
    for (const [feature, meter] of Object.entries(e.meters)) {
      let w = periodWindow(e.validFrom, meter.period, Math.max(Date.parse(range.from), Date.parse(e.validFrom)));
      if (w.start < range.from) w = periodWindow(e.validFrom, meter.period, Date.parse(w.end));
      while (w.start < range.to && Date.parse(w.start) <= now) {
        keys.add(`${feature}\u0000${w.start}`);
        w = periodWindow(e.validFrom, meter.period, Date.parse(w.end));
      }
    }
    return [...keys].sort(cmp).map((k) => {
      const [feature, periodStart] = k.split('\u0000') as [string, string];
      return { ref: { entitlementId: e.entitlementId, feature, periodStart }, closed: closes.get(k) ?? null, open: closes.has(k) ? null : (open.get(k) ?? null) };
    });
  }

  private async *summaries(entitlements: readonly MeteredEntitlement[], range: PeriodStartRange, q: ExportUsageQuery): AsyncGenerator<ExportRow> {
    for (const e of entitlements) {
      for (const p of await this.periodsOf(e, range)) {
        const lineage = `/v1/usage/export?period=${encodeURIComponent(p.ref.periodStart)}&customerId=${encodeURIComponent(e.customerId)}&lines=events&format=${q.format}`;
        if (p.closed) {
          const c = p.closed;
          yield {
            customerId: c.customerId,
            entitlementId: c.entitlementId,
            feature: c.feature,
            period: c.period,
            periodStart: c.periodStart,
            periodEnd: c.periodEnd,
            included: c.included,
            capType: c.capType,
            usage: c.usage,
            corrections: c.corrections.total,
            correctionsCount: c.corrections.count,
            billable: c.billable,
            overage: c.overage,
            events: c.events,
            firstPosition: num(c.firstPosition),
            lastPosition: num(c.lastPosition),
            throughPosition: c.throughPosition,
            closed: true,
            closedAt: c.closedAt,
            lineage,
          };
          continue;
        }
        const meter = e.meters[p.ref.feature];
        const f = p.open ?? { value: 0, usage: 0, corrections: { count: 0, total: 0 }, events: 0, firstPosition: null, lastPosition: null };
        const w = meter ? periodWindow(e.validFrom, meter.period, Date.parse(p.ref.periodStart)) : null;
        const included = meter?.cap ?? 0;
        yield {
          customerId: e.customerId,
          entitlementId: e.entitlementId,
          feature: p.ref.feature,
          period: meter?.period ?? null,
          periodStart: p.ref.periodStart,
          periodEnd: w?.end ?? null,
          included,
          capType: meter?.capType ?? null,
          usage: f.usage,
          corrections: f.corrections.total,
          correctionsCount: f.corrections.count,
          billable: f.value,
          overage: Math.max(0, f.value - included),
          events: f.events,
          firstPosition: num(f.firstPosition),
          lastPosition: num(f.lastPosition),
          throughPosition: null,
          closed: false,
          closedAt: null,
          lineage,
        };
      }
    }
  }

  private async *lines(entitlements: readonly MeteredEntitlement[], range: PeriodStartRange): AsyncGenerator<ExportRow> {
    for (const e of entitlements) {
      for (const p of await this.periodsOf(e, range)) {
        const through = p.closed ? p.closed.throughPosition : null;
        const base = { customerId: e.customerId, entitlementId: e.entitlementId, feature: p.ref.feature, periodStart: p.ref.periodStart, closed: p.closed !== null };
        const corrections = await this.store.correctionsOf(p.ref, through);
        let ci = 0;
        const correctionRow = (): ExportRow => {
          const c = corrections[ci++]!;
          return { kind: 'correction', ...base, position: Number(c.position), quantity: Number(c.quantity), correctionId: c.correction_id, reason: c.reason, corrects: c.corrects, actor: c.actor, correctedAt: c.corrected_at };
        };
        // Raw events page by page, with the corrections merged in by position.
        for (let after = 0; ; ) {
          const page = await this.store.eventsPage(p.ref, after, through, 1000);
          for (const r of page) {
            const position = Number(r['position']);
            while (ci < corrections.length && Number(corrections[ci]!.position) < position) yield correctionRow();
            yield {
              kind: 'usage',
              ...base,
              position,
              source: r['source'] as string,
              id: r['id'] as string,
              time: r['event_time'] as string,
              quantity: Number(r['quantity']),
              userId: (r['user_id'] as string | null) ?? null,
              deviceId: (r['device_id'] as string | null) ?? null,
              receivedAt: r['received_at'] as string,
            };
            after = position;
          }
          if (page.length < 1000) break;
        }
        while (ci < corrections.length) yield correctionRow();
      }
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
