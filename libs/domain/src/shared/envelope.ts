/**
 * The envelope every internal event carries. Time and identity arrive through
 * command metadata: the domain never reads a clock or generates an id.
 */
export type ActorType = 'user' | 'service' | 'erp' | 'system' | 'operator';
export interface Actor {
  readonly type: ActorType;
  readonly id: string;
}

export type EventSource = 'erp' | 'api' | 'portal' | 'system';
export interface CommandMetadata {
  /** ISO-8601 instant at which the command is handled (from the injected clock). */
  readonly now: string;
  /** When the change takes effect in the business's timeline; defaults to `now`. */
  readonly effectiveAt?: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: Actor;
  readonly source: EventSource;
  /** Client-supplied key that makes a retried write return its original result. */
  readonly idempotencyKey?: string;
  /** Hash of the request that carried the idempotency key, to detect key reuse. */
  readonly requestHash?: string;
}

export interface EventMetadata {
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: Actor;
  readonly source: EventSource;
  readonly recordedAt: string;
  readonly effectiveAt: string;
  readonly schemaVersion: number;
  readonly idempotencyKey?: string;
  readonly requestHash?: string;
}

export interface DomainEvent<TType extends string = string, TData = unknown> {
  readonly type: TType;
  readonly data: TData;
  readonly metadata: EventMetadata;
}

export interface Command<TType extends string = string, TData = unknown> {
  readonly type: TType;
  readonly data: TData;
  readonly metadata: CommandMetadata;
}

/** Builds the event envelope from the command that caused it. */
export function envelope(meta: CommandMetadata, schemaVersion = 1): EventMetadata {
  const out: {
    -readonly [K in keyof EventMetadata]: EventMetadata[K];
  } = {
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    actor: meta.actor,
    source: meta.source,
    recordedAt: meta.now,
    effectiveAt: meta.effectiveAt ?? meta.now,
    schemaVersion,
  };
  if (meta.idempotencyKey !== undefined) out.idempotencyKey = meta.idempotencyKey;
  if (meta.requestHash !== undefined) out.requestHash = meta.requestHash;
  return out;
}

export function effectiveAt(meta: CommandMetadata): string {
  return meta.effectiveAt ?? meta.now;
}

/** Exhaustiveness check: a `switch` over a union ends here. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
