import { createHash } from 'node:crypto';
import type { UsageEventV1 } from '@el/contracts';

/**
 * Canonical JSON (keys sorted, no spaces): the definition of a usage event's
 * payload fingerprint, which does not depend on key order. Stored with every
 * event (payload_hash), so its output for a given event never changes.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  return `{${Object.keys(v as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/** The fields of `data` the schema allows, in the order canonicalJson sorts them. */
const DATA_KEYS = ['deviceId', 'entitlementId', 'feature', 'quantity', 'userId'] as const;
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The SHA-256 of canonicalJson({type, subject, time, data}) — with the time
 * as the instant it names, in UTC (`utc`: a retry that writes the same instant
 * as +02:00 or with milliseconds is the same event) — for an event that
 * passed the usage schema — built without the generic walk (no key lists, no
 * sorts, no recursion: a few percent of ingestion's CPU), and equal to it by
 * construction and by test.
 */
export function usagePayloadHash(e: UsageEventV1, utc: string = e.time): string {
  const d = e.data as unknown as Record<string, unknown>;
  let data = '';
  for (const k of DATA_KEYS) if (has(d, k)) data += `${data ? ',' : ''}"${k}":${JSON.stringify(d[k])}`;
  return createHash('sha256').update(`{"data":{${data}},"subject":${JSON.stringify(e.subject)},"time":${JSON.stringify(utc)},"type":${JSON.stringify(e.type)}}`).digest('hex');
}
