import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '@el/platform';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { LedgerIndex } from '../infrastructure/ledger-index';
import { OrderProcess } from '../place-order/order-process';

/** At boot, finishes orders a crash left received but not completed. */
@Injectable()
export class OrderRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger('order-recovery');

  constructor(
    private readonly index: LedgerIndex,
    private readonly orders: OrderProcess,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.recover();
  }

  async recover(): Promise<number> {
    const ids = this.index.unfinishedOrderIds();
    let done = 0;
    for (const orderId of ids) {
      try {
        const outcome = await this.orders.resume(orderId, commandMetadata(systemContext('order-recovery', `recovery-${orderId}`), this.clock));
        if (outcome) done += 1;
      } catch (err) {
        this.logger.error({ err, orderId }, 'could not resume order');
      }
    }
    if (ids.length > 0) this.logger.log({ resumed: done, found: ids.length }, 'order recovery finished');
    return done;
  }
}
