import { createHash, randomUUID } from 'node:crypto';

/** Injected wherever time is read, so tests and replays control it. */
export abstract class Clock {
  abstract now(): Date;
  /** Epoch milliseconds (hot paths: no Date allocated by the system clock). */
  nowMs(): number {
    return this.now().getTime();
  }
}
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
  override nowMs(): number {
    return Date.now();
  }
}

/** Injected wherever ids are generated. */
export abstract class IdGenerator {
  abstract random(): string;
}
export class RandomIdGenerator extends IdGenerator {
  random(): string {
    return randomUUID();
  }
}

/**
 * A UUID derived from its inputs (SHA-256, formatted as a version-8 UUID), so
 * the same command always produces the same event ids and entitlement ids:
 * a retried ERP order or a replayed Idempotency-Key cannot create twins.
 */
export function deterministicId(...parts: readonly (string | number)[]): string {
  const h = createHash('sha256').update(parts.map(String).join('\u001f')).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** JSON with object keys sorted, so equal values hash equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function hashOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
