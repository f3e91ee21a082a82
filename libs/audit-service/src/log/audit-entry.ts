import type { StoredEventFields } from '@el/contracts';
import { canonicalJson } from '../canonical-json';
import { leafHash } from '../merkle/merkle';

/** An event of the log as the audit service receives it (the event store's RecordedEvent, or an AuditRecordV1's fields). */
export type LoggedEvent = StoredEventFields;

/**
 * The bytes a leaf covers: the RFC 8785 canonical JSON of exactly these six
 * members of the stored event (UTF-8). The event id and the store's commit
 * time are not part of it: they are the store's bookkeeping, not the event.
 */
export function auditEntry(e: Pick<LoggedEvent, 'position' | 'stream' | 'revision' | 'type' | 'data' | 'metadata'>): string {
  return canonicalJson({ position: e.position, stream: e.stream, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata });
}

/** SHA-256(0x00 ‖ UTF-8(entry)). */
export function entryLeafHash(entry: string): Buffer {
  return leafHash(Buffer.from(entry, 'utf8'));
}

/** What an event is about and who caused it: the keys of the history queries. */
export interface EventRefs {
  readonly customer: string | null;
  readonly entitlements: readonly string[];
  readonly actor: string | null;
  readonly correlation: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : null);

/**
 * The customer, entitlements, actor and correlation id of an event: from its
 * data (customerId, entitlementId, entitlementIds), its stream's name
 * (entitlement-<id>, usage-<entitlementId>/…, license-tokens-<customerId>,
 * dunning-<customerId>) and its metadata (actor.id, correlationId). A stream
 * whose events do not all name the customer gets it from `streamCustomer`,
 * the customer an earlier event of the stream named.
 */
export function refsOf(e: LoggedEvent, streamCustomer: string | null): EventRefs {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const entitlements = new Set<string>();
  const own = text(data['entitlementId']);
  if (own) entitlements.add(own);
  if (Array.isArray(data['entitlementIds'])) for (const id of data['entitlementIds']) if (text(id)) entitlements.add(id as string);
  const byStream = /^entitlement-(.+)$/.exec(e.stream)?.[1] ?? /^usage-([^/]+)\//.exec(e.stream)?.[1];
  if (byStream) entitlements.add(byStream);
  const customer = text(data['customerId']) ?? /^(?:license-tokens|dunning)-(.+)$/.exec(e.stream)?.[1] ?? streamCustomer;
  const actor = (e.metadata['actor'] ?? null) as { id?: unknown } | null;
  return { customer, entitlements: [...entitlements], actor: text(actor?.id), correlation: text(e.metadata['correlationId']) };
}
