import { Injectable } from '@nestjs/common';
import {
  decideEntitlement,
  entitlementStream,
  evolveEntitlement,
  foldEntitlement,
  type EntitlementCommand,
  type EntitlementEvent,
  type EntitlementState,
} from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { ApiException, jitter, KeyedSerializer, Metrics } from '@el/platform';
import type { Counter } from 'prom-client';
import { EventStreams } from '../infrastructure/event-streams';

export interface WriteOptions {
  /** Derives the ids of the events written: the same command id never writes twice. */
  readonly commandId: string;
  /** Revision from If-Match: a stale one answers 412 instead of retrying. */
  readonly ifMatch?: number;
  /** Set when the command came with an Idempotency-Key: a reuse with another request is refused. */
  readonly requestHash?: string;
}

export interface WriteResult {
  readonly entitlementId: string;
  /** Revision of the stream after the write (ETag). */
  readonly revision: number;
  /** Global position of the last event written: pass it as `minPosition` to read this write elsewhere. */
  readonly position: number;
  /** Event types written (empty when the command changed nothing). */
  readonly events: readonly string[];
  /** True when this command had already been applied: nothing new was written. */
  readonly replayed: boolean;
  readonly state: EntitlementState;
}

/** Retries of a write that lost an optimistic-concurrency race (to another process; in-process writes queue). */
const MAX_ATTEMPTS = 10;

/**
 * The command side for one entitlement: load its stream, decide, append with
 * the revision that was read. Without If-Match a conflicting concurrent write
 * is retried against the new state (the decider re-checks every rule); with
 * If-Match the caller asked for exactly that revision and gets 412.
 */
@Injectable()
export class EntitlementWriter {
  private readonly outcomes: Counter<'command' | 'outcome'>;
  private readonly queue = new KeyedSerializer();

  constructor(
    private readonly streams: EventStreams,
    metrics: Metrics,
  ) {
    this.outcomes = metrics.counter('ledger_commands_total', 'Entitlement commands by type and outcome', ['command', 'outcome']);
  }

  execute(entitlementId: string, build: (state: EntitlementState) => EntitlementCommand, options: WriteOptions): Promise<WriteResult> {
    // Commands on one entitlement queue inside this process rather than race.
    return this.queue.run(entitlementId, () => this.decideAndAppend(entitlementId, build, options));
  }

  private async decideAndAppend(entitlementId: string, build: (state: EntitlementState) => EntitlementCommand, options: WriteOptions): Promise<WriteResult> {
    const stream = entitlementStream(entitlementId);
    let commandType = 'unknown';
    try {
      for (let attempt = 1; ; attempt++) {
        const loaded = await this.streams.load<EntitlementEvent>(stream);
        const state = foldEntitlement(loaded.events);

        const already = this.streams.writtenBy(loaded, options.commandId);
        if (already.length > 0) {
          const hash = already[0]!.metadata['requestHash'];
          if (options.requestHash !== undefined && hash !== undefined && hash !== options.requestHash) {
            throw new ApiException(422, 'IDEMPOTENCY.KEY_REUSED', 'this Idempotency-Key was already used with a different request', {
              entitlementId,
            });
          }
          const last = already[already.length - 1]!;
          this.outcomes.inc({ command: commandType, outcome: 'replayed' });
          return { entitlementId, revision: last.revision, position: last.position, events: already.map((e) => e.type), replayed: true, state };
        }
        if (options.ifMatch !== undefined && options.ifMatch !== loaded.revision) {
          throw new ApiException(412, 'CONCURRENCY.STALE_REVISION', `entitlement ${entitlementId} is at revision ${loaded.revision}, not ${options.ifMatch}: read it again and retry`, {
            expected: options.ifMatch,
            actual: loaded.revision,
          });
        }

        const command = build(state);
        commandType = command.type;
        const events = decideEntitlement(command, state);
        if (events.length === 0) {
          this.outcomes.inc({ command: commandType, outcome: 'unchanged' });
          return { entitlementId, revision: loaded.revision, position: loaded.position, events: [], replayed: false, state };
        }
        try {
          const r = await this.streams.append(stream, events, EventStreams.expected(loaded), options.commandId);
          this.outcomes.inc({ command: commandType, outcome: r.duplicate ? 'replayed' : 'applied' });
          return {
            entitlementId,
            revision: r.revision,
            position: r.position,
            events: events.map((e) => e.type),
            replayed: r.duplicate,
            state: r.duplicate ? foldEntitlement((await this.streams.load<EntitlementEvent>(stream)).events) : events.reduce(evolveEntitlement, state),
          };
        } catch (err) {
          if (!isConcurrencyError(err)) throw err;
          if (options.ifMatch !== undefined) {
            throw new ApiException(412, 'CONCURRENCY.STALE_REVISION', `entitlement ${entitlementId} changed while this request was handled`, {
              expected: options.ifMatch,
            });
          }
          if (attempt >= MAX_ATTEMPTS) {
            throw new ApiException(409, 'CONCURRENCY.CONFLICT', `entitlement ${entitlementId} is changing too fast; retry`, { attempts: attempt });
          }
          await jitter(2 * attempt);
        }
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code) this.outcomes.inc({ command: commandType, outcome: code });
      throw err;
    }
  }

  async read(entitlementId: string): Promise<{ state: EntitlementState; revision: number; position: number }> {
    const loaded = await this.streams.load<EntitlementEvent>(entitlementStream(entitlementId));
    return { state: foldEntitlement(loaded.events), revision: loaded.revision, position: loaded.position };
  }
}
