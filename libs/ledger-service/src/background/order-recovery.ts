import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '@el/platform';
import { InjectEventStore, type EventStore } from '@el/event-store';
import { ReadModelPosition, ReadModelQueries } from '@el/read-models';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { OrderProcess } from '../place-order/order-process';

/** How long an order may stay received before recovery treats its process as dead. */
const GRACE_MS = 10_000;

/**
 * Finishes orders a crash left received but not fulfilled: at boot, and then
 * periodically. Resuming is idempotent (derived event ids), so two ledger
 * instances recovering the same order write it once.
 */
@Injectable()
export class OrderRecovery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('order-recovery');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    private readonly readModels: ReadModelQueries,
    private readonly position: ReadModelPosition,
    @InjectEventStore() private readonly store: EventStore,
    private readonly orders: OrderProcess,
    private readonly clock: Clock,
  ) {}

  /** Resolves when the pass at boot is over (for tests and orderly shutdown). */
  bootPass: Promise<number> = Promise.resolve(0);

  onApplicationBootstrap(): void {
    // At boot every received order is from a previous run: once the read models
    // have caught up with the log as it was at boot, finish them all.
    this.bootPass = (async () => {
      const head = await this.store.headPosition();
      await this.position.waitFor(head, 60_000);
      return this.recover(0);
    })().catch((err) => {
      this.logger.error({ err }, 'order recovery failed');
      return 0;
    });
    if (this.config.ORDER_RECOVERY_INTERVAL_MS > 0) {
      this.timer = setInterval(() => void this.recover(GRACE_MS).catch((err) => this.logger.error({ err }, 'order recovery failed')), this.config.ORDER_RECOVERY_INTERVAL_MS);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async recover(olderThanMs = GRACE_MS): Promise<number> {
    const stale = await this.readModels.unfinishedOrders(new Date(this.clock.now().getTime() - olderThanMs));
    let done = 0;
    for (const o of stale) {
      try {
        const outcome = await this.orders.resume(o.orderId, commandMetadata(systemContext('order-recovery', `recovery-${o.orderId}`), this.clock));
        if (outcome) done += 1;
      } catch (err) {
        this.logger.error({ err, orderId: o.orderId }, 'could not resume order');
      }
    }
    if (stale.length > 0) this.logger.log({ resumed: done, found: stale.length }, 'order recovery finished');
    return done;
  }
}
