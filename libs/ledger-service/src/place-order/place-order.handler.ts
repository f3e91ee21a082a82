import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
import { IdempotencyKeys } from '../infrastructure/idempotency-keys';
import { OrderProcess, type OrderOutcome } from './order-process';
import { PlaceOrderCommand } from './place-order.command';

@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand, OrderOutcome> {
  constructor(
    private readonly orders: OrderProcess,
    private readonly keys: IdempotencyKeys,
    private readonly clock: Clock,
  ) {}

  async execute(c: PlaceOrderCommand): Promise<OrderOutcome> {
    const meta = commandMetadata(c.context, this.clock);
    // Orders are idempotent by orderId; a client's Idempotency-Key is also held to its first request.
    await this.keys.claim(c.context, `order:${c.order.orderId}`, meta.now);
    return this.orders.place(c.order, meta);
  }
}
