import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock, type RequestContext } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
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
    private readonly clock: Clock,
  ) {}

  execute(c: PlaceOrderCommand): Promise<OrderOutcome> {
    return this.orders.place(c.order, commandMetadata(c.ctx, this.clock));
  }
}
