import { Inject, Injectable, Logger, type INestApplication, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler as NestMessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { deadLetterV1, dlqTopicOf } from '@el/contracts';
import { Clock, Metrics, type FieldError } from '@el/platform';
import type { Counter } from 'prom-client';
import type { ConsumeOptions, IncomingMessage, IntegrationEvents, RunningConsumer } from '../integration-events.port';
import { INTEGRATION_EVENTS } from './tokens';

/** How one topic is consumed: its consumer group and the adapter's options. */
export interface BusSubscription extends Omit<ConsumeOptions, 'onError'> {
  readonly group: string;
  /** The topic to read when it is not the pattern's name (a test's own topic, an environment prefix). */
  readonly topic?: string;
}

/**
 * Says how a handler's topic is consumed. Named in the handler's extras
 * (`@EventPattern(TOPICS.erpOrders, { subscription: ErpOrderSubscription })`)
 * and resolved from the application's providers when the bus starts — so a
 * group can come from configuration and a resume point from a snapshot.
 */
export interface BusSubscriptionSource {
  subscription(topic: string): BusSubscription | Promise<BusSubscription>;
}

export interface BusHandlerExtras {
  readonly subscription: Type<BusSubscriptionSource> | string | symbol;
}

/**
 * Thrown by a handler for a message that can never be handled (not JSON, not
 * a valid message, refused for good): the message goes to `<topic>.dlq` with
 * this reason and its original bytes, and the partition moves on. Anything
 * else a handler throws is retried with backoff, never skipped.
 */
export class DeadLetter extends Error {
  override readonly name = 'DeadLetter';
  constructor(
    readonly code: string,
    message: string,
    readonly errors?: readonly Pick<FieldError, 'path' | 'message'>[],
  ) {
    super(message);
  }
}

/** The context an @EventPattern handler can take with `@Ctx()`: the message as it arrived. */
export class BusContext extends BaseRpcContext<[IncomingMessage]> {
  getMessage(): IncomingMessage {
    return this.args[0];
  }
}

export const BUS_TRANSPORT = Symbol('integration-events');

/**
 * A @nestjs/microservices transport over the IntegrationEvents port: the
 * controllers' `@EventPattern(topic)` handlers are served from Kafka when
 * distributed and from the in-process bus when embedded, with the adapter's
 * semantics intact — an offset is marked only after its handler finished,
 * messages with one key are handled in order (different keys up to the
 * subscription's concurrency), a failing handler is retried with backoff,
 * a `DeadLetter` goes to `<topic>.dlq`, and a consumer with its own snapshot
 * resumes from it on every group join. Unlike Nest's own transports, a
 * handler's error reaches the transport, so nothing is acknowledged that was
 * not handled.
 */
@Injectable()
export class BusServer extends Server implements CustomTransportStrategy {
  override readonly transportId = BUS_TRANSPORT;
  private readonly log = new Logger('bus');
  private readonly running: RunningConsumer[] = [];
  private readonly deadLettered: Counter<'topic'>;
  /** Dead-letter topics known to exist (created on first use). */
  private readonly dlqTopics = new Set<string>();
  private handlersByTopic: ReadonlyMap<string, readonly NestMessageHandler[]> | null = null;

  constructor(
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
    private readonly moduleRef: ModuleRef,
    private readonly clock: Clock,
    metrics: Metrics,
  ) {
    super();
    this.deadLettered = metrics.counter('bus_messages_dead_lettered_total', 'Messages handlers refused for good, sent to <topic>.dlq', ['topic']);
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [topic, handlers] of this.consumers()) for (const h of handlers) await this.subscribe(topic, h);
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Several handlers of one topic are several consumers (the enforcement view, metering): each its own subscription.
   * Nest chains a pattern's event handlers (`next`) and calling the first calls the whole chain: each is unlinked, or
   * every message of the first handler's consumer would reach the others too (with its pace, priority and offsets).
   * Unlinking leaves Nest's map with the first of each topic only, so the handlers are taken once and kept (a
   * transport closed and listening again subscribes them all).
   */
  private consumers(): ReadonlyMap<string, readonly NestMessageHandler[]> {
    if (this.handlersByTopic) return this.handlersByTopic;
    const byTopic = new Map<string, NestMessageHandler[]>();
    for (const [topic, first] of this.getHandlers()) {
      const chain: NestMessageHandler[] = [];
      for (let h: NestMessageHandler | undefined = first; h; h = h.next as NestMessageHandler | undefined) chain.push(h);
      for (const h of chain) delete h.next;
      byTopic.set(topic, chain);
    }
    return (this.handlersByTopic = byTopic);
  }

  private async subscribe(topic: string, handler: NestMessageHandler): Promise<void> {
    if (!handler.isEventHandler) throw new Error(`${topic}: the bus carries events; use @EventPattern, not @MessagePattern`);
    const extras = handler.extras as Partial<BusHandlerExtras> | undefined;
    if (!extras?.subscription) throw new Error(`${topic}: @EventPattern needs { subscription } naming the provider that says how the topic is consumed`);
    const source = this.moduleRef.get<BusSubscriptionSource>(extras.subscription, { strict: false });
    const { group, topic: physical = topic, ...options } = await source.subscription(topic);
    const consumer = await this.bus.consume(physical, group, (m) => this.handle(handler, m, group), {
      ...options,
      onError: (err, m, attempt) => this.log.warn({ err, topic: physical, group, partition: m.partition, offset: m.offset, attempt }, 'message handler failed; retrying'),
    });
    this.running.push(consumer);
    this.log.log({ topic: physical, group }, 'consuming');
  }

  private async handle(handler: NestMessageHandler, m: IncomingMessage, group: string): Promise<void> {
    try {
      await lastValueFrom(this.transformToObservable(await handler(m, new BusContext([m]))), { defaultValue: undefined });
    } catch (err) {
      if (!(err instanceof DeadLetter)) throw err;
      await this.deadLetter(m, group, err);
    }
  }

  private async deadLetter(m: IncomingMessage, group: string, reason: DeadLetter): Promise<void> {
    const topic = dlqTopicOf(m.topic);
    const value = deadLetterV1({
      consumerGroup: group,
      reason: { code: reason.code, message: reason.message, ...(reason.errors ? { errors: reason.errors.map((e) => ({ path: e.path, message: e.message })) } : {}) },
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key,
      timestamp: m.timestamp,
      headers: m.headers,
      value: m.value,
      now: this.clock.now(),
    });
    if (!this.dlqTopics.has(topic)) {
      await this.bus.ensureTopics([topic]);
      this.dlqTopics.add(topic);
    }
    await this.bus.publish(topic, [{ key: m.key ?? `${m.partition}:${m.offset}`, id: `dlq:${m.topic}:${m.partition}:${m.offset}`, value }]);
    this.deadLettered.inc({ topic: m.topic });
    this.log.warn({ topic: m.topic, partition: m.partition, offset: m.offset, code: reason.code, reason: reason.message }, 'message dead-lettered');
  }

  /** Stops every consumer; each finishes the message in hand and marks what it handled. */
  async close(): Promise<void> {
    for (const consumer of this.running.splice(0)) await consumer.stop();
  }

  on(): never {
    throw new Error('the bus transport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}

/**
 * Hands the app's @EventPattern handlers to the bus (call once, after creating
 * the app); `listen` from @el/platform starts consuming once the app is
 * initialised (snapshots loaded, topics known). The app's global filters
 * apply (inheritAppConfig): the platform's error filter gives a handler's
 * error back to the transport, which retries it or dead-letters it.
 */
export function connectBus(app: INestApplication): void {
  app.connectMicroservice({ strategy: app.get(BusServer) }, { inheritAppConfig: true });
}
