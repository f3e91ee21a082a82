/** Times in the viewer's own zone, with the exact UTC instant on hover (and for screen readers, the <time> element). */
const local = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const localDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
export const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
/** An instant as the console shows it in text: the viewer's zone, medium date, short time. */
export const formatLocal = (iso: string) => local.format(new Date(iso));

export function Time({ value, dateOnly = false }: { value: string | null | undefined; dateOnly?: boolean }) {
  if (!value) return <span className="muted">—</span>;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return <span>{value}</span>;
  const utc = d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  return (
    <time dateTime={d.toISOString()} title={utc}>
      {(dateOnly ? localDate : local).format(d)}
    </time>
  );
}

const numbers = new Intl.NumberFormat();
export const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : numbers.format(n));
export const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 100) : 0);

/** An <input type="datetime-local"> value (the viewer's zone) as an ISO instant. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An instant as an <input type="datetime-local"> value in the viewer's zone. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An actor as events record it ({type, id}), for people. */
export function actorOf(actor: unknown): string {
  if (actor && typeof actor === 'object') {
    const a = actor as { type?: string; id?: string };
    return [a.type, a.id].filter(Boolean).join(' ');
  }
  return typeof actor === 'string' ? actor : '—';
}
