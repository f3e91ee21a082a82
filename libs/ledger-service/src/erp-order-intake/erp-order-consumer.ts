import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { deadLetterV1, parseErpOrderV1, TOPICS, type DeadLetterV1 } from '@el/contracts';
import { DomainError, type CommandMetadata } from '@el/domain';
import { BUS_CONFIG, InjectIntegrationEvents, type BusConfig, type IncomingMessage, type IntegrationEvents, type RunningConsumer } from '@el/messaging';
import { Clock, Metrics } from '@el/platform';
import type { Counter } from 'prom-client';
import { OrderProcess } from '../place-order/order-process';

export const ERP_ORDERS_GROUP = Symbol('ERP_ORDERS_GROUP');
export const ERP_ORDERS_CONCURRENCY = Symbol('ERP_ORDERS_CONCURRENCY');

/**
 * Takes ERP orders from erp.orders.v1 (BUS=kafka). Each message is parsed and
 * validated, then applied once per orderId (a redelivered message, or the
 * same order sent twice, has one effect). A message that can never be applied
 * — not JSON, not a valid order, or an orderId reused with another payload —
 * goes to erp.orders.v1.dlq with the reason and the original bytes, and the
 * partition moves on. Anything else (the store busy, a bug) throws: the
 * message is retried with backoff and never skipped. Orders that are valid
 * but cannot be fulfilled are not dead letters: their rejection is recorded
 * on the order (GET /v1/orders/:id).
 */
@Injectable()
export class ErpOrderConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('erp-orders');
  private consumer: RunningConsumer | null = null;
  private readonly outcomes: Counter<'outcome'>;

  constructor(
    @Inject(BUS_CONFIG) private readonly bus: BusConfig,
    @InjectIntegrationEvents() private readonly events: IntegrationEvents,
    @Inject(ERP_ORDERS_GROUP) private readonly group: string,
    @Inject(ERP_ORDERS_CONCURRENCY) private readonly concurrency: number,
    private readonly orders: OrderProcess,
    private readonly clock: Clock,
    metrics: Metrics,
  ) {
    this.outcomes = metrics.counter('erp_orders_consumed_total', 'ERP order messages by outcome', ['outcome']);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.bus.kind !== 'kafka') return;
    this.consumer = await this.events.consume(TOPICS.erpOrders, this.group, (m) => this.handle(m), {
      concurrency: this.concurrency,
      onError: (err, m, attempt) => this.logger.warn({ err, partition: m.partition, offset: m.offset, attempt }, 'ERP order failed; retrying'),
    });
    this.logger.log({ topic: TOPICS.erpOrders, group: this.group }, 'consuming ERP orders');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  async handle(m: IncomingMessage): Promise<void> {
    const parsed = parseErpOrderV1(m.value);
    if (!parsed.ok) {
      await this.deadLetter(m, { code: parsed.code, message: parsed.message, errors: parsed.errors });
      return;
    }
    const meta: CommandMetadata = {
      now: this.clock.now().toISOString(),
      correlationId: m.headers['x-correlation-id'] ?? `order:${parsed.value.orderId}`,
      causationId: `kafka:${m.topic}/${m.partition}/${m.offset}`,
      actor: { type: 'erp', id: m.headers['x-erp-id'] ?? 'erp' },
      source: 'erp',
    };
    try {
      const outcome = await this.orders.place(parsed.value, meta);
      this.outcomes.inc({ outcome: outcome.replayed ? 'replayed' : outcome.status });
    } catch (err) {
      if (err instanceof DomainError) {
        await this.deadLetter(m, { code: err.code, message: err.message });
        return;
      }
      throw err;
    }
  }

  private async deadLetter(m: IncomingMessage, reason: DeadLetterV1['reason']): Promise<void> {
    const value = deadLetterV1({
      consumerGroup: this.group,
      reason,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key,
      timestamp: m.timestamp,
      headers: m.headers,
      value: m.value,
      now: this.clock.now(),
    });
    await this.events.publish(TOPICS.erpOrdersDlq, [{ key: m.key ?? `${m.partition}:${m.offset}`, id: `dlq:${m.topic}:${m.partition}:${m.offset}`, value }]);
    this.outcomes.inc({ outcome: 'dead_lettered' });
    this.logger.warn({ partition: m.partition, offset: m.offset, code: reason.code, reason: reason.message }, 'ERP order message dead-lettered');
  }
}
