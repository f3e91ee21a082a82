import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EventStore } from '@el/event-store';
import type { ReadModelPosition } from '@el/read-models';

/** How long work may stay unfinished before recovery treats the process that started it as dead. */
export const RECOVERY_GRACE_MS = 10_000;

/**
 * Finishes work a crash can leave half done across two streams (an order
 * received but not fulfilled, an approval recorded but not granted): at boot —
 * once the read models have caught up with the log as it was, since all such
 * work is then from a previous run — and then every `intervalMs`. Finishing is
 * idempotent (event ids derive from the work), so several ledger instances
 * recovering at once write it once.
 */
export abstract class Recovery implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;

  /** Resolves with what the pass at boot finished (for tests and orderly shutdown). */
  bootPass: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly store: EventStore,
    private readonly position: ReadModelPosition,
  ) {
    this.logger = new Logger(name);
  }

  /** One pass over work left unfinished for longer than `olderThanMs`; returns how much it finished. */
  abstract recover(olderThanMs?: number): Promise<number>;

  onApplicationBootstrap(): void {
    this.bootPass = (async () => {
      await this.position.waitFor(await this.store.headPosition(), 60_000);
      return this.recover(0);
    })().catch((err) => {
      this.logger.error({ err }, `${this.name} failed`);
      return 0;
    });
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => void this.recover(RECOVERY_GRACE_MS).catch((err) => this.logger.error({ err }, `${this.name} failed`)), this.intervalMs);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
