import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock, type RequestContext } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
import { IdempotencyKeys } from '../infrastructure/idempotency-keys';
import { OrderProcess, type OrderOutcome, type OrderSubmission } from './order-process';

export class PlaceOrderCommand extends Command<OrderOutcome> {
  constructor(
    readonly order: OrderSubmission,
    readonly ctx: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand, OrderOutcome> {
  constructor(
    private readonly orders: OrderProcess,
    private readonly keys: IdempotencyKeys,
    private readonly clock: Clock,
  ) {}

  async execute(c: PlaceOrderCommand): Promise<OrderOutcome> {
    const meta = commandMetadata(c.ctx, this.clock);
    // Orders are idempotent by orderId; a client's Idempotency-Key is also held to its first request.
    await this.keys.claim(c.ctx, `order:${c.order.orderId}`, meta.now);
    return this.orders.place(c.order, meta);
  }
}
