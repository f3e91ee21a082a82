import { Controller, Inject, Injectable } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS } from '@el/contracts';
import { DeadLetter, type BusSubscription, type BusSubscriptionSource, type IncomingMessage } from '@el/messaging';
import { METERING_CONFIG, type MeteringConfig } from '../metering.config';
import { UsageGroupCommit } from './usage-group-commit';
import { MeterFeedCatchUp } from '../meters/meter-feed-catch-up';

/**
 * metering.usage.v1 is consumed by the metering service's group, many messages
 * at once — of one key too: an event's effect does not depend on the order
 * (one effect per (source, id), commutative aggregates), so a customer that
 * reports a lot is not limited to one message per transaction.
 */
@Injectable()
export class UsageSubscription implements BusSubscriptionSource {
  constructor(@Inject(METERING_CONFIG) private readonly config: MeteringConfig) {}
  subscription(): BusSubscription {
    return { group: this.config.METERING_USAGE_GROUP, concurrency: this.config.METERING_USAGE_CONCURRENCY, ordered: false };
  }
}

/**
 * Usage events from metering.usage.v1 (one per message, the same JSON as an
 * element of `POST /v1/usage`'s `events`): recorded with the same rules, once
 * per (source, id). A message that can never be counted — not JSON, not a
 * usage event, an unknown customer or feature, out of the time window, an id
 * reused with another payload — goes to metering.usage.v1.dlq with the reason;
 * a duplicate is acknowledged and changes nothing. Who may write the topic is
 * Kafka's to decide (SASL users, ACLs). The messages handled at once (the
 * subscription's concurrency, across partitions) are recorded together, one
 * transaction for all of them (UsageGroupCommit).
 */
@Controller()
export class UsageMessagesController {
  constructor(
    private readonly usage: UsageGroupCommit,
    private readonly catchUp: MeterFeedCatchUp,
  ) {}

  @EventPattern(TOPICS.usage, { subscription: UsageSubscription })
  async record(@Payload() m: IncomingMessage): Promise<void> {
    // Not before the meters are known: a valid event for a customer not read yet must not be dead-lettered.
    if (!this.catchUp.isReady) await this.catchUp.ready;
    let event: unknown;
    try {
      event = JSON.parse(m.value?.toString('utf8') ?? '');
    } catch {
      throw new DeadLetter('MESSAGE.NOT_JSON', 'the message value is not JSON');
    }
    const result = await this.usage.record(event);
    if (result.status === 'rejected') {
      // Paths name the event itself (the group's index is no business of the message's).
      throw new DeadLetter(result.code ?? 'USAGE.REFUSED', result.reason ?? 'refused', result.errors?.map((e) => ({ path: e.path.replace(/^events\[\d+\]\./, ''), message: e.message })));
    }
  }
}
