import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '@el/platform';
import type { OrderOutcome, OrderSubmission } from './order-process';

/**
 * Place an ERP order, from `POST /v1/orders` or a message on `erp.orders.v1`:
 * applied once per orderId. The context says who sent it and how (for a Kafka
 * message, the request id is the message's topic/partition/offset).
 */
export class PlaceOrderCommand extends Command<OrderOutcome> {
  constructor(
    readonly order: OrderSubmission,
    readonly context: RequestContext,
  ) {
    super();
  }
}
