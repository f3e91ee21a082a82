import { nextTurn } from '@el/platform';
import {
  SubscriptionError,
  type BatchHandler,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from './event-store.port';

export interface LogSource {
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Resolves when events after `position` may exist: on a local append, or
   * after the poll interval (for appends by other processes), or on abort.
   */
  waitForAppend(position: number, signal: AbortSignal): Promise<void>;
  /** The log's newest position: a subscription counts as catching up until it has handled it. */
  headPosition?(): Promise<number>;
  /** Shared by the subscriptions of one log in a process (see CatchUpTurns). */
  readonly turns?: CatchUpTurns;
}

/** Who reads first while several subscriptions of one log in a process catch up (SubscribeOptions.priority). */
export type CatchUpPriority = 'normal' | 'deferred' | 'background';
const RANK: Record<CatchUpPriority, number> = { normal: 0, deferred: 1, background: 2 };

/**
 * Turn-taking among the subscriptions of one log in a process while they catch up. A
 * subscription is catching up from its start until it has handled the head the log had then
 * (or has read an empty page); it stops counting when it stops or its handler fails. In its own
 * catch-up a `deferred` subscription reads on only while no `normal` one is catching up; a
 * `background` one, always, only while neither a `normal` nor a `deferred` one is. On a fresh
 * start the readers that make the process ready (read models, the enforcement view) get the
 * process first, then the meter feed (usage waits for it), and the audit log's feed follows.
 */
export class CatchUpTurns {
  /** Catching up, by rank: `normal`, then `deferred` (a `background` subscription never holds others back). */
  private readonly catchingUp: Set<object>[] = [new Set(), new Set()];
  private waiting: { rank: number; resume: () => void }[] = [];

  begin(subscription: object, priority: CatchUpPriority = 'normal'): void {
    this.catchingUp[RANK[priority]]?.add(subscription);
  }

  end(subscription: object): void {
    if (!this.catchingUp.some((set) => set.delete(subscription))) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) {
      if (this.clearFor(w.rank)) w.resume();
      else this.waiting.push(w);
    }
  }

  /** Resolves once no subscription ahead of `priority` is catching up (at once if none is), or when `signal` aborts. */
  idle(signal: AbortSignal, priority: CatchUpPriority = 'background'): Promise<void> {
    const rank = RANK[priority];
    if (this.clearFor(rank) || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const resume = () => {
        signal.removeEventListener('abort', resume);
        resolve();
      };
      this.waiting.push({ rank, resume });
      signal.addEventListener('abort', resume);
    });
  }

  private clearFor(rank: number): boolean {
    for (let r = 0; r < rank && r < this.catchingUp.length; r++) if (this.catchingUp[r]!.size > 0) return false;
    return true;
  }
}

/**
 * Reads the log page by page from `after`, hands each page to the handler and
 * waits for the handler before reading on; when it reaches the head it waits
 * for new appends. Because it always reads `position > last handled`, the
 * handover from catch-up to live cannot skip or repeat an event. Between two
 * pages it gives the event loop a turn: a store read synchronously (SQLite) and
 * a synchronous handler would otherwise keep a long catch-up from ever letting
 * a request in.
 */
export function catchUpSubscription(source: LogSource, handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
  const batchSize = options.batchSize ?? 500;
  let position = options.after ?? 0;
  let stopped = false;
  const abort = new AbortController();
  const turns = source.turns;
  const priority = options.priority ?? 'normal';
  // A background subscription holds no other back, so it need not say when it has caught up.
  const counted = priority !== 'background';
  // A deferred subscription waits its turn only in its own catch-up: once at the head it keeps up like any
  // other, whatever another reader's retry (which catches up again) does. A background one waits whenever
  // another is catching up.
  let deferring = priority === 'deferred';
  const self = {};
  if (turns && counted) turns.begin(self, priority);

  const loop = async (): Promise<void> => {
    // Where catching up ends: the head when it started (unknown if the store cannot say: then at its first empty page).
    const target = turns && counted && source.headPosition ? await source.headPosition().catch(() => null) : null;
    while (!stopped) {
      if (target !== null && position >= target) {
        turns!.end(self);
        deferring = false;
      }
      if (turns && (priority === 'background' || deferring)) await turns.idle(abort.signal, priority);
      if (stopped) return;
      const batch = await source.readAll({ after: position, maxCount: batchSize });
      if (stopped) return;
      if (batch.length === 0) {
        turns?.end(self);
        deferring = false;
        await source.waitForAppend(position, abort.signal);
        continue;
      }
      try {
        await handler(batch);
      } catch (err) {
        throw new SubscriptionError(position, err);
      }
      position = batch[batch.length - 1]!.position;
      await nextTurn();
    }
  };
  const done = loop().finally(() => turns?.end(self));
  // A rejected `done` that nobody awaits must not crash the process: callers see it when they await.
  done.catch(() => undefined);

  return {
    done,
    position: () => position,
    async stop() {
      stopped = true;
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}
