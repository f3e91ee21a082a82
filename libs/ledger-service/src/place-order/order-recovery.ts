import { Inject, Injectable } from '@nestjs/common';
import { InjectEventStore, type EventStore } from '@el/event-store';
import { Clock } from '@el/platform';
import { ReadModelPosition, ReadModelQueries } from '@el/read-models';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { Recovery, RECOVERY_GRACE_MS } from '../infrastructure/recovery';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { OrderProcess } from './order-process';

/** Finishes orders a crash left received but not fulfilled (ORDER_RECOVERY_INTERVAL_MS). */
@Injectable()
export class OrderRecovery extends Recovery {
  constructor(
    @Inject(LEDGER_CONFIG) config: LedgerConfig,
    @InjectEventStore() store: EventStore,
    position: ReadModelPosition,
    private readonly readModels: ReadModelQueries,
    private readonly orders: OrderProcess,
    private readonly clock: Clock,
  ) {
    super('order-recovery', config.ORDER_RECOVERY_INTERVAL_MS, store, position);
  }

  async recover(olderThanMs = RECOVERY_GRACE_MS): Promise<number> {
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
