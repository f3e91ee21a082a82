import { Injectable } from '@nestjs/common';
import { decideUsagePeriod, evolveUsagePeriod, initialUsagePeriodState, UsagePeriodRejected, type Actor, type CommandMetadata, type UsagePeriodCommand, type UsagePeriodEvent, type UsagePeriodState } from '@el/domain';
import { EventIdConflictError, InjectEventStore, isConcurrencyError, type EventStore, type RecordedEvent } from '@el/event-store';
import { jitter, KeyedSerializer, type RequestContext } from '@el/platform';
import { MeteringError } from '../metering.errors';

export interface LoadedPeriod {
  readonly stream: string;
  readonly state: UsagePeriodState;
  readonly recorded: readonly RecordedEvent[];
  /** -1 when the stream does not exist. */
  readonly revision: number;
}

export interface PeriodWrite {
  /** The events of this command in the store: just written, or written before by the same command (`replayed`). */
  readonly events: readonly RecordedEvent[];
  readonly replayed: boolean;
  /** The stream as it was decided on. */
  readonly loaded: LoadedPeriod;
}

const MAX_ATTEMPTS = 10;

/** Who, as the metering store notes it beside a correction: `operator:key:…`, `system:usage-period-closer`. */
export function actorLabel(actor: Actor): string {
  return `${actor.type}:${actor.id}`.slice(0, 200);
}

/** The envelope of a command: who (from the verified credential, or the system), why, when. */
export function meteringMetadata(ctx: RequestContext, now: Date): CommandMetadata {
  return { now: now.toISOString(), correlationId: ctx.correlationId, causationId: ctx.requestId, actor: ctx.actor, source: ctx.source };
}

/**
 * Usage-period streams in the event store: load, decide, append with the
 * revision that was read. A write that lost a race (another process appended
 * first) is decided again on the new state, so a close and a correction of the
 * same period never both win, and two closers record one close. Event ids are
 * derived from the command (`eventId`), so a retried command collapses into
 * its original append at the store.
 */
@Injectable()
export class UsagePeriodStreams {
  private readonly queue = new KeyedSerializer();

  constructor(@InjectEventStore() private readonly store: EventStore) {}

  async load(stream: string): Promise<LoadedPeriod> {
    const recorded = await this.store.readStream(stream);
    const state = recorded.reduce((s, r) => evolveUsagePeriod(s, { type: r.type, data: r.data, metadata: r.metadata } as unknown as UsagePeriodEvent), initialUsagePeriodState());
    return { stream, state, recorded, revision: recorded.length > 0 ? recorded[recorded.length - 1]!.revision : -1 };
  }

  /**
   * Decides `command(loaded)` on the stream and appends its events. `command`
   * runs again after a lost race, on the stream as it is then (a closer
   * recomputes its figures). `eventId` names the command's event: found in the
   * stream, the command was carried out before and answers as then.
   */
  decide(stream: string, eventId: string, command: (loaded: LoadedPeriod) => Promise<UsagePeriodCommand>): Promise<PeriodWrite> {
    // Commands on one period queue inside this process rather than race.
    return this.queue.run(stream, async () => {
      for (let attempt = 1; ; attempt++) {
        const loaded = await this.load(stream);
        const before = loaded.recorded.find((r) => r.id === eventId);
        const c = await command(loaded);
        const events = decideUsagePeriod(c, loaded.state);
        if (before) return { events: [before], replayed: true, loaded };
        if (events.length === 0) return { events: [], replayed: false, loaded };
        try {
          const r = await this.store.append(
            stream,
            events.map((e, i) => ({ id: i === 0 ? eventId : `${eventId}-${i}`, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> })),
            { expectedRevision: loaded.revision === -1 ? 'no_stream' : loaded.revision },
          );
          const written = await this.store.readStream(stream, { fromRevision: r.revision - events.length + 1, maxCount: events.length });
          return { events: written, replayed: r.duplicate, loaded };
        } catch (err) {
          // The same event id in another stream: a correction id already used for another period.
          if (err instanceof EventIdConflictError) throw new UsagePeriodRejected('USAGE.CORRECTION_ID_REUSED', 'this id was already used by another correction (of another period); corrections never change', { stream });
          if (!isConcurrencyError(err)) throw err;
          if (attempt >= MAX_ATTEMPTS) throw new MeteringError('CONCURRENCY.CONFLICT', `usage period ${stream} is changing too fast; retry`, { attempts: attempt });
          await jitter(2 * attempt);
        }
      }
    });
  }
}
