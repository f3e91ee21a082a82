import { Controller, Inject, Injectable, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { isControlMessage, TOPICS, type EntitlementEventV1 } from '@el/contracts';
import { jsonOf, type BusSubscription, type BusSubscriptionSource, type IncomingMessage } from '@el/messaging';
import { MeterRegistry } from './meter-registry';
import { MeterFeedCatchUp } from './meter-feed-catch-up';
import { METERING_OPTIONS, type MeteringOptions } from '../metering.config';

/** The feed is read from its beginning at every start, under a group of this process's own. */
@Injectable()
export class MeterFeedSubscription implements BusSubscriptionSource {
  private readonly group = `metering-meters-${randomUUID()}`;
  constructor(@Inject(METERING_OPTIONS) private readonly options: MeteringOptions) {}
  subscription(): BusSubscription {
    // Every message reaches the handler, a republished one too: applying is idempotent (newest revision wins), and the
    // catch-up gate must see the topic's last offsets, whatever they hold.
    // In-process, it reads the log after the readers that make the process ready (the read models, the enforcement
    // view) and before the audit log's feed: until it has caught up, usage is answered 503 METERING.CATCHING_UP
    // (MeterFeedCatchUp), not refused.
    return { group: this.group, topic: this.options.entitlementsTopic, fromBeginning: true, concurrency: 1, dedupe: false, priority: 'deferred' };
  }
}

/** Learns every entitlement's meters from ledger.entitlements.v1. */
@Controller()
export class MeterFeedController {
  private readonly logger = new Logger('metering');

  constructor(
    private readonly registry: MeterRegistry,
    private readonly catchUp: MeterFeedCatchUp,
  ) {}

  @EventPattern(TOPICS.entitlements, { subscription: MeterFeedSubscription })
  apply(@Payload() m: IncomingMessage): void {
    try {
      if (!isControlMessage(m.headers)) {
        const event = jsonOf<EntitlementEventV1>(m);
        this.registry.apply(event.data.entitlement, event.data.effectiveAt);
      }
    } catch (err) {
      // Not an entitlement change this version understands: skipped, never retried forever.
      this.logger.warn({ err, offset: m.offset, partition: m.partition }, 'an entitlement message could not be read');
    } finally {
      this.catchUp.note(m.partition, m.offset);
    }
  }
}
