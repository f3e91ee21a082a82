import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

/**
 * Work a service does on its own every `intervalMs` (0: never on its own,
 * `sweep()` still runs a pass): the ledger's expiries and dunning, metering's
 * period closes. Passes never overlap; one that fails is logged and the next
 * one tries again. Each pass must be idempotent, since several instances may
 * sweep at once.
 */
export abstract class PeriodicSweep<T> implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  protected constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    /** What a pass answers when another is still running. */
    private readonly idle: T,
  ) {
    this.logger = new Logger(name);
  }

  /** One pass. */
  protected abstract pass(): Promise<T>;

  onApplicationBootstrap(): void {
    if (this.intervalMs === 0) return;
    this.timer = setInterval(() => void this.sweep().catch((err) => this.logger.error({ err }, `${this.name} sweep failed`)), this.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sweep(): Promise<T> {
    if (this.running) return this.idle;
    this.running = true;
    try {
      return await this.pass();
    } finally {
      this.running = false;
    }
  }
}
