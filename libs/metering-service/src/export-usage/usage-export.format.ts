/** The columns of a billing export, in order: per customer, entitlement, meter and period. */
export const SUMMARY_COLUMNS = [
  'customerId',
  'entitlementId',
  'feature',
  'period',
  'periodStart',
  'periodEnd',
  'included',
  'capType',
  'usage',
  'corrections',
  'correctionsCount',
  'billable',
  'overage',
  'events',
  'firstPosition',
  'lastPosition',
  'throughPosition',
  'closed',
  'closedAt',
  'lineage',
] as const;

/** The columns of `lines=events`: each raw usage event and each correction of the periods, in position order. */
export const LINE_COLUMNS = [
  'kind',
  'customerId',
  'entitlementId',
  'feature',
  'periodStart',
  'closed',
  'position',
  'source',
  'id',
  'time',
  'quantity',
  'userId',
  'deviceId',
  'receivedAt',
  'correctionId',
  'reason',
  'corrects',
  'actor',
  'correctedAt',
] as const;

export type ExportValue = string | number | boolean | null;
export type ExportRow = Readonly<Record<string, ExportValue>>;
export type ExportFormat = 'csv' | 'jsonl';

export const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8' };

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line
 * break, quotes doubled. A text (never a number) that a spreadsheet would run
 * as a formula (=, +, -, @, tab, CR first — OWASP's CSV injection list) gets a
 * leading apostrophe: a reason or an id from a caller is shown, not executed.
 */
export function csvField(v: ExportValue): string {
  if (v === null) return '';
  const s = typeof v === 'string' ? (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The export's text, line by line: the CSV header first, then one line per row (CRLF, as RFC 4180 says), or one JSON object per line. */
export async function* formatExport(rows: AsyncIterable<ExportRow>, columns: readonly string[], format: ExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield `${columns.join(',')}\r\n`;
  let chunk = '';
  for await (const row of rows) {
    chunk += format === 'csv' ? `${columns.map((c) => csvField(row[c] ?? null)).join(',')}\r\n` : `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null])))}\n`;
    // Written in pieces of about 64 KiB: few writes, little memory.
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
