import type { BatchHandler, CheckpointStore, EventStore, RecordedEvent, Subscription } from './event-store.port';

export interface CheckpointedOptions {
  /** Stable, configured id: the checkpoint belongs to it. */
  readonly subscriptionId: string;
  readonly checkpoints: CheckpointStore;
  readonly handle: BatchHandler;
  /**
   * `after-batch`: the runner saves the checkpoint once the handler returns
   * (publish, then checkpoint). `by-handler`: the handler stores it itself,
   * e.g. in the same transaction as its writes.
   */
  readonly checkpointing: 'after-batch' | 'by-handler';
  readonly batchSize?: number;
  /** See SubscribeOptions.priority. */
  readonly priority?: 'normal' | 'deferred' | 'background';
  /** Backoff after a failure: initial and maximum delay. */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  readonly onError?: (error: unknown, attempt: number, resumeAfter: number) => void;
  readonly onBatch?: (events: readonly RecordedEvent[]) => void;
}

export interface CheckpointedSubscription {
  position(): number;
  stop(): Promise<void>;
}

/**
 * Runs a subscription that survives handler failures: on a throw it waits
 * (exponential backoff), reloads the checkpoint and resumes from it, so an
 * event is handled again rather than skipped. Delivery is at-least-once;
 * handlers are idempotent.
 */
export function runCheckpointed(store: EventStore, options: CheckpointedOptions): CheckpointedSubscription {
  // At most a second between attempts: a dependency that comes back is used again within a second.
  const retry = options.retry ?? { initialMs: 100, maxMs: 1_000 };
  let current: Subscription | null = null;
  let stopped = false;
  let position = 0;
  let wake: (() => void) | null = null;

  const handler: BatchHandler = async (events) => {
    await options.handle(events);
    const last = events[events.length - 1]!.position;
    if (options.checkpointing === 'after-batch') await options.checkpoints.save(options.subscriptionId, last);
    position = last;
    options.onBatch?.(events);
  };

  const loop = async () => {
    let attempt = 0;
    while (!stopped) {
      try {
        const after = await options.checkpoints.load(options.subscriptionId);
        // Stopped while the checkpoint loaded (a database's load takes a round trip): nothing to subscribe.
        if (stopped) return;
        position = after;
        current = store.subscribeAll(handler, { after, batchSize: options.batchSize, priority: options.priority });
        await current.done;
        return;
      } catch (err) {
        // A failing handler or an unreachable checkpoint store: back off, reload, resume.
        if (stopped) return;
        attempt += 1;
        options.onError?.(err, attempt, position);
        const delay = Math.min(retry.maxMs, retry.initialMs * 2 ** (attempt - 1));
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  };
  const running = loop();

  return {
    position: () => position,
    async stop() {
      stopped = true;
      wake?.();
      await current?.stop();
      await running;
    },
  };
}

/** A checkpoint store kept in memory: for tests and throwaway consumers. */
export class InMemoryCheckpointStore implements CheckpointStore {
  private readonly positions = new Map<string, number>();
  async load(id: string): Promise<number> {
    return this.positions.get(id) ?? 0;
  }
  async save(id: string, position: number): Promise<void> {
    this.positions.set(id, position);
  }
}
