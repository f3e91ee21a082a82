/** Pure calendar arithmetic on ISO-8601 instants (UTC). */

export type TermUnit = 'day' | 'month' | 'year';
export interface Term {
  readonly unit: TermUnit;
  readonly count: number;
}

const DAY_MS = 86_400_000;

export function toMillis(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO-8601 instant: ${iso}`);
  return ms;
}

export function addDays(iso: string, days: number): string {
  return new Date(toMillis(iso) + days * DAY_MS).toISOString();
}

/** Adds calendar months, clamping to the last day of the target month (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(iso: string, months: number): string {
  const d = new Date(toMillis(iso));
  const day = d.getUTCDate();
  const target = new Date(
    Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() + months,
      1,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString();
}

export function addTerm(iso: string, term: Term, times = 1): string {
  switch (term.unit) {
    case 'day':
      return addDays(iso, term.count * times);
    case 'month':
      return addMonths(iso, term.count * times);
    case 'year':
      return addMonths(iso, term.count * 12 * times);
  }
}

export function isBefore(a: string, b: string): boolean {
  return toMillis(a) < toMillis(b);
}

export function isIsoInstant(value: unknown): value is string {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value));
}
