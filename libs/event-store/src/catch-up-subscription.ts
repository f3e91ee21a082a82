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

/**
 * Turn-taking among the subscriptions of one log in a process while they catch up. A
 * subscription is catching up from its start until it has handled the head the log had then
 * (or has read an empty page); it stops counting when it stops or its handler fails. A
 * `background` subscription reads on only while none is catching up: on a fresh start the
 * readers that make the process ready (read models, the enforcement view) get the process
 * first, and the audit log's feed follows.
 */
export class CatchUpTurns {
  private readonly catchingUp = new Set<object>();
  private waiting: (() => void)[] = [];

  begin(subscription: object): void {
    this.catchingUp.add(subscription);
  }

  end(subscription: object): void {
    if (!this.catchingUp.delete(subscription) || this.catchingUp.size > 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  }

  /** Resolves once no subscription is catching up (at once if none is), or when `signal` aborts. */
  idle(signal: AbortSignal): Promise<void> {
    if (this.catchingUp.size === 0 || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const resume = () => {
        signal.removeEventListener('abort', resume);
        resolve();
      };
      this.waiting.push(resume);
      signal.addEventListener('abort', resume);
    });
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
  const background = options.priority === 'background';
  const self = {};
  if (turns && !background) turns.begin(self);

  const loop = async (): Promise<void> => {
    // Where catching up ends: the head when it started (unknown if the store cannot say: then at its first empty page).
    const target = turns && !background && source.headPosition ? await source.headPosition().catch(() => null) : null;
    while (!stopped) {
      if (target !== null && position >= target) turns!.end(self);
      if (background && turns) await turns.idle(abort.signal);
      if (stopped) return;
      const batch = await source.readAll({ after: position, maxCount: batchSize });
      if (stopped) return;
      if (batch.length === 0) {
        turns?.end(self);
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
