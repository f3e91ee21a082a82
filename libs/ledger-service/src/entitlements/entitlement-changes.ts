import { Injectable } from '@nestjs/common';
import { decideEntitlement, DomainError, evolveEntitlement, type EntitlementCommand, type EntitlementState } from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { jitter, KeyedSerializer, Metrics, type Principal } from '@el/platform';
import { assertSeesEntitlement } from '../infrastructure/visibility';
import type { Counter } from 'prom-client';
import { LedgerError } from '../ledger.errors';
import { assertSameRequest } from '../infrastructure/event-streams';
import { EntitlementRepository, type LoadedEntitlement } from './entitlement.repository';

export interface WriteOptions {
  /** Derives the ids of the events written: the same command id never writes twice. */
  readonly commandId: string;
  /** Revision from If-Match: a stale one is refused (412) instead of retried. */
  readonly ifMatch?: number;
  /** Set when the command came with an Idempotency-Key: a reuse with another request is refused. */
  readonly requestHash?: string;
  /** Who asks, when a caller does: an entitlement of a customer it may not see is not found. */
  readonly viewer?: Principal;
  /**
   * The entitlement as the caller has just read it: the first attempt decides
   * on it instead of reading the stream again. A stale one costs nothing but
   * a retry: the append expects its revision, fails, and the next attempt
   * reads the stream.
   */
  readonly loaded?: LoadedEntitlement;
}

export interface EntitlementWriteResult {
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
 * Applies one domain command to one entitlement: load, decide, append with the
 * revision that was read. Every use case that changes an entitlement goes
 * through here — API commands, order lines, approved access requests, expiry.
 * Without If-Match a write that lost a race is decided again on the new state
 * (the decider re-checks every rule); with If-Match the caller asked for that
 * exact revision and gets CONCURRENCY.STALE_REVISION. A command id that
 * already wrote answers with what it wrote.
 */
@Injectable()
export class EntitlementChanges {
  private readonly outcomes: Counter<'command' | 'outcome'>;
  private readonly queue = new KeyedSerializer();

  constructor(
    private readonly entitlements: EntitlementRepository,
    metrics: Metrics,
  ) {
    this.outcomes = metrics.counter('ledger_commands_total', 'Entitlement commands by type and outcome', ['command', 'outcome']);
  }

  apply(entitlementId: string, command: EntitlementCommand, options: WriteOptions): Promise<EntitlementWriteResult> {
    // Commands on one entitlement queue inside this process rather than race.
    return this.queue.run(entitlementId, () => this.decideAndAppend(entitlementId, command, options));
  }

  private async decideAndAppend(entitlementId: string, command: EntitlementCommand, options: WriteOptions): Promise<EntitlementWriteResult> {
    try {
      for (let attempt = 1; ; attempt++) {
        const loaded = attempt === 1 && options.loaded?.entitlementId === entitlementId ? options.loaded : await this.entitlements.load(entitlementId);
        if (options.viewer && loaded.state.status !== 'none') assertSeesEntitlement(options.viewer, entitlementId, loaded.state.customerId);
        // A scoped viewer learns nothing from a missing entitlement either: the same answer as for another customer's,
        // before If-Match or an Idempotency-Key could tell the two apart.
        if (options.viewer?.customers && loaded.state.status === 'none') throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${entitlementId} does not exist`);
        const already = await this.entitlements.writtenBy(loaded, options.commandId);
        if (already.length > 0) {
          assertSameRequest(already, options.requestHash, { entitlementId });
          const last = already[already.length - 1]!;
          this.outcomes.inc({ command: command.type, outcome: 'replayed' });
          return { entitlementId, revision: last.revision, position: last.position, events: already.map((e) => e.type), replayed: true, state: loaded.state };
        }
        if (options.ifMatch !== undefined && options.ifMatch !== loaded.revision) {
          throw new LedgerError('CONCURRENCY.STALE_REVISION', `entitlement ${entitlementId} is at revision ${loaded.revision}, not ${options.ifMatch}: read it again and retry`, {
            expected: options.ifMatch,
            actual: loaded.revision,
          });
        }
        const events = decideEntitlement(command, loaded.state);
        if (events.length === 0) {
          this.outcomes.inc({ command: command.type, outcome: 'unchanged' });
          return { entitlementId, revision: loaded.revision, position: loaded.position, events: [], replayed: false, state: loaded.state };
        }
        try {
          const r = await this.entitlements.append(loaded, events, options.commandId);
          this.outcomes.inc({ command: command.type, outcome: r.duplicate ? 'replayed' : 'applied' });
          return {
            entitlementId,
            revision: r.revision,
            position: r.position,
            events: events.map((e) => e.type),
            replayed: r.duplicate,
            state: r.duplicate ? (await this.entitlements.load(entitlementId)).state : events.reduce(evolveEntitlement, loaded.state),
          };
        } catch (err) {
          if (!isConcurrencyError(err)) throw err;
          if (options.ifMatch !== undefined) {
            throw new LedgerError('CONCURRENCY.STALE_REVISION', `entitlement ${entitlementId} changed while this request was handled`, { expected: options.ifMatch });
          }
          if (attempt >= MAX_ATTEMPTS) throw new LedgerError('CONCURRENCY.CONFLICT', `entitlement ${entitlementId} is changing too fast; retry`, { attempts: attempt });
          await jitter(2 * attempt);
        }
      }
    } catch (err) {
      if (err instanceof DomainError || err instanceof LedgerError) this.outcomes.inc({ command: command.type, outcome: err.code });
      throw err;
    }
  }
}
