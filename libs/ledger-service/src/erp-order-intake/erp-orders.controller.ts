import { Controller, Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { EventPattern, Payload } from '@nestjs/microservices';
import { erpOrderSchemaV1, ID_SCHEMA, TOPICS, type ErpOrderV1 } from '@el/contracts';
import { DomainError } from '@el/domain';
import { DeadLetter, type BusSubscription, type BusSubscriptionSource, type IncomingMessage } from '@el/messaging';
import { compileSchema, Metrics, type Principal, type RequestContext } from '@el/platform';
import type { Counter } from 'prom-client';
import { PlaceOrderCommand } from '../place-order/place-order.command';

export const ERP_ORDERS_SUBSCRIPTION = Symbol('ERP_ORDERS_SUBSCRIPTION');

/** How erp.orders.v1 is consumed: the ledger's group, orders with different keys in parallel. */
@Injectable()
export class ErpOrderSubscription implements BusSubscriptionSource {
  constructor(@Inject(ERP_ORDERS_SUBSCRIPTION) private readonly options: { readonly group: string; readonly concurrency: number }) {}

  subscription(): BusSubscription {
    return { group: this.options.group, concurrency: this.options.concurrency };
  }
}

const validOrder = compileSchema(erpOrderSchemaV1);
const ID = new RegExp(ID_SCHEMA.pattern);

/**
 * Takes ERP orders from erp.orders.v1 — the same JSON, validated by the same
 * schema, as POST /v1/orders — and places each through the CommandBus, once
 * per orderId (a redelivered message, or the same order sent twice, has one
 * effect). A message that can never be applied — not JSON, not a valid
 * order, or an orderId reused with another payload — is a dead letter: it
 * goes to erp.orders.v1.dlq with the reason and its original bytes, and the
 * partition moves on. Anything else (the store busy, a bug) throws: the
 * message is retried with backoff, never skipped. An order that is valid but
 * cannot be fulfilled is not a dead letter: its rejection is recorded on the
 * order (GET /v1/orders/:id).
 */
@Controller()
export class ErpOrdersController {
  private readonly outcomes: Counter<'outcome'>;

  constructor(
    private readonly commands: CommandBus,
    metrics: Metrics,
  ) {
    this.outcomes = metrics.counter('erp_orders_consumed_total', 'ERP order messages by outcome', ['outcome']);
  }

  @EventPattern(TOPICS.erpOrders, { subscription: ErpOrderSubscription })
  async placeOrder(@Payload() m: IncomingMessage): Promise<void> {
    try {
      const order = orderOf(m);
      const outcome = await this.commands.execute(new PlaceOrderCommand(order, contextOf(m, order.orderId)));
      this.outcomes.inc({ outcome: outcome.replayed ? 'replayed' : outcome.status });
    } catch (err) {
      if (err instanceof DomainError) {
        this.outcomes.inc({ outcome: 'dead_lettered' });
        throw new DeadLetter(err.code, err.message);
      }
      if (err instanceof DeadLetter) this.outcomes.inc({ outcome: 'dead_lettered' });
      throw err;
    }
  }
}

function orderOf(m: IncomingMessage): ErpOrderV1 {
  if (!m.value || m.value.length === 0) throw new DeadLetter('MESSAGE.UNPARSEABLE', 'the message has no value');
  let doc: unknown;
  try {
    doc = JSON.parse(m.value.toString('utf8'));
  } catch (err) {
    throw new DeadLetter('MESSAGE.UNPARSEABLE', `not JSON: ${(err as Error).message}`);
  }
  const problems = validOrder(doc);
  if (problems.length > 0) throw new DeadLetter('MESSAGE.INVALID', problems.map((p) => p.message).join('; '), problems);
  return doc as ErpOrderV1;
}

/** Who sent the order, from the message: its headers name the ERP and the correlation; the request is the message itself. */
function contextOf(m: IncomingMessage, orderId: string): RequestContext {
  const header = (name: string): string | undefined => {
    const value = m.headers[name];
    if (value !== undefined && !ID.test(value)) throw new DeadLetter('MESSAGE.INVALID', `header ${name} must be an identifier (1-128 characters: letters, digits and . _ : @ -)`, [{ path: `headers.${name}`, message: 'is not an identifier' }]);
    return value;
  };
  const erpId = header('x-erp-id') ?? 'erp';
  const correlationId = header('x-correlation-id');
  const requestId = `kafka:${m.topic}/${m.partition}/${m.offset}`;
  // The correlation defaults to the order, so every event of one order shares it.
  // The topic is the ERP's credential (Kafka ACLs and SASL decide who may write to it).
  const principal: Principal = { id: `erp:${erpId}`, kind: 'system', role: 'erp', name: erpId, customers: null };
  return { requestId, correlationId: correlationId ?? `order:${orderId}`, actor: { type: 'erp', id: erpId }, principal, source: 'erp' };
}

