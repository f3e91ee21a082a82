import { Controller, Inject, Injectable } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { decisionRecordSchemaV1, TOPICS, type DecisionRecordV1 } from '@el/contracts';
import { DeadLetter, type BusSubscription, type BusSubscriptionSource, type IncomingMessage } from '@el/messaging';
import { compileSchema } from '@el/platform';
import { AUDIT_CONFIG, type AuditConfig } from '../audit.config';
import { DecisionLogStore } from './decision-log-store';

const validate = compileSchema(decisionRecordSchemaV1);

/** enforcement.decisions.v1 from its beginning under the audit service's group; records are kept by id, so any order and redelivery is fine. */
@Injectable()
export class DecisionFeedSubscription implements BusSubscriptionSource {
  constructor(@Inject(AUDIT_CONFIG) private readonly config: AuditConfig) {}
  subscription(): BusSubscription {
    return { group: `${this.config.AUDIT_FEED_GROUP}-decisions`, fromBeginning: true, dedupe: false, concurrency: 500, ordered: false };
  }
}

/**
 * Keeps the enforcement services' decision log (enforcement.decisions.v1):
 * records queued as they arrive and stored together (one transaction per
 * batch); a message that is not a DecisionRecordV1 goes to the dead-letter
 * topic with the paths of what is wrong.
 */
@Controller()
export class DecisionFeedController {
  private pending: { record: DecisionRecordV1; done: () => void; fail: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly store: DecisionLogStore) {}

  @EventPattern(TOPICS.decisions, { subscription: DecisionFeedSubscription })
  receive(@Payload() m: IncomingMessage): Promise<void> {
    let record: DecisionRecordV1;
    try {
      record = JSON.parse(m.value?.toString('utf8') ?? 'null') as DecisionRecordV1;
    } catch {
      throw new DeadLetter('MESSAGE.NOT_JSON', 'the message value is not JSON');
    }
    const errors = validate(record);
    if (errors.length > 0) throw new DeadLetter('VALIDATION_FAILED', 'not a DecisionRecordV1', errors.map((e) => ({ path: e.path, message: e.message })));
    return new Promise<void>((done, fail) => {
      this.pending.push({ record, done, fail });
      if (this.pending.length >= 500) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), 10);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.flushing = this.flushing.then(async () => {
      try {
        await this.store.keep(batch.map((b) => b.record));
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    });
  }
}
