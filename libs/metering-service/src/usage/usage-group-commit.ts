import { Injectable } from '@nestjs/common';
import type { UsageResultV1 } from '@el/contracts';
import { UsageLedger } from './usage-ledger';

/** At most this many events in one ingest (a POST /v1/usage batch's limit). */
const MAX_EVENTS = 1000;

interface Waiting {
  readonly event: unknown;
  resolve(result: UsageResultV1): void;
  reject(error: unknown): void;
}

/**
 * Group commit for usage that arrives one event at a time (a Kafka message
 * each): the events handed in while an ingest is committing are recorded
 * together by the next one, in one transaction, instead of a transaction —
 * and, on PostgreSQL, a wait on the usage position row and a flush to disk —
 * per event. Each caller still gets its own event's result, only after the
 * transaction that holds it has committed, so acknowledging a message after
 * `record` resolves never acknowledges usage that could be rolled back. If
 * the ingest fails, every event of it fails (and its message is retried).
 *
 * Batching changes no outcome: an ingest decides per event exactly as one
 * ingest per event in arrival order would (the first occurrence of a
 * (source, id) is the event, later ones compare with it).
 */
@Injectable()
export class UsageGroupCommit {
  private readonly waiting: Waiting[] = [];
  /** Ingests in progress: one at a time on SQLite (one writer), two on PostgreSQL (the next group is checked and sent while the last commits). */
  private committing = 0;

  constructor(private readonly ledger: UsageLedger) {}

  record(event: unknown): Promise<UsageResultV1> {
    return new Promise<UsageResultV1>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.committing >= this.ledger.parallelIngests) return;
    this.committing += 1;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MAX_EVENTS);
        try {
          const results = await this.ledger.ingest(group.map((w) => w.event));
          group.forEach((w, i) => w.resolve(results[i]!));
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.committing -= 1;
    }
  }
}
