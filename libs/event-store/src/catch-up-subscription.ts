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
}

/**
 * Reads the log page by page from `after`, hands each page to the handler and
 * waits for the handler before reading on; when it reaches the head it waits
 * for new appends. Because it always reads `position > last handled`, the
 * handover from catch-up to live cannot skip or repeat an event.
 */
export function catchUpSubscription(source: LogSource, handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
  const batchSize = options.batchSize ?? 500;
  let position = options.after ?? 0;
  let stopped = false;
  const abort = new AbortController();

  const loop = async (): Promise<void> => {
    while (!stopped) {
      const batch = await source.readAll({ after: position, maxCount: batchSize });
      if (stopped) return;
      if (batch.length === 0) {
        await source.waitForAppend(position, abort.signal);
        continue;
      }
      try {
        await handler(batch);
      } catch (err) {
        throw new SubscriptionError(position, err);
      }
      position = batch[batch.length - 1]!.position;
    }
  };
  const done = loop();
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
