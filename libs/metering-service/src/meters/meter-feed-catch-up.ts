import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { INTEGRATION_EVENTS, type IntegrationEvents } from '@el/messaging';
import { METERING_OPTIONS, type MeteringOptions } from '../metering.config';

/**
 * Whether the meter feed (ledger.entitlements.v1, read from its beginning at
 * every start) has caught up with what the topic held when this process
 * started. Until then a usage event for a customer whose entitlement is
 * simply not read yet would be refused as unknown — on Kafka dead-lettered,
 * over HTTP refused for good — so usage waits: the Kafka consumer holds its
 * messages, `POST /v1/usage` answers 503 with Retry-After (clients retry).
 *
 * On Kafka the target is each partition's end offset at start. In-process the
 * feed is the local event store and its offsets are log positions: the target is
 * the head at start. (It used to be taken as ready at once, but the process
 * serves while it replays the log: on a fresh start usage for a customer not yet
 * read was refused as USAGE.UNKNOWN_CUSTOMER.)
 */
@Injectable()
export class MeterFeedCatchUp implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('metering');
  private targets: Map<number, bigint> | null = null;
  /** Per partition, the next offset to read without a gap from its first message. */
  private readonly next = new Map<number, bigint>();
  private done = false;
  /**
   * In-process: offsets are log positions, read in order from the first, with gaps (other streams'
   * events). Progress need not be gap-free because MeterFeedSubscription's group is new at every
   * start (its checkpoint 0: the feed reads from the log's first position); a lasting group would
   * resume near the head and open the gate without the entitlements before it.
   */
  private positions = false;
  /** Per partition, the offset after the highest handled, noted even before the targets are known (used in-process). */
  private readonly read = new Map<number, bigint>();
  private release!: () => void;
  private abort!: (err: Error) => void;
  /** Resolves once the feed has caught up; rejects when the process stops before (a waiting message is then not acknowledged). */
  readonly ready = new Promise<void>((resolve, reject) => {
    this.release = resolve;
    this.abort = reject;
  });

  constructor(
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
    @Inject(METERING_OPTIONS) private readonly options: MeteringOptions,
  ) {
    this.ready.catch(() => undefined);
  }

  /** Before the consumers stop: messages waiting here fail (and are redelivered later) instead of holding the shutdown. */
  onModuleDestroy(): void {
    if (!this.done) this.abort(new Error('stopping before the meter feed caught up: the usage message is read again at the next start'));
  }

  get isReady(): boolean {
    return this.done;
  }

  /** In-process: the feed is the local event store's log, read after the readers that make the process ready. */
  get readsLog(): boolean {
    return this.positions;
  }

  /** What is left to read, per partition (for /health). */
  get behind(): Record<number, string> {
    const out: Record<number, string> = {};
    for (const [p, end] of this.targets ?? []) {
      const left = end - (this.next.get(p) ?? 0n);
      out[p] = String(left > 0n ? left : 0n);
    }
    return out;
  }

  async onApplicationBootstrap(): Promise<void> {
    const topic = this.options.entitlementsTopic;
    this.positions = (await this.bus.offsetScope(topic)).startsWith('inprocess:');
    for (let attempt = 1; ; attempt++) {
      try {
        const [starts, ends] = await Promise.all([this.bus.startOffsets(topic), this.bus.endOffsets(topic)]);
        this.targets = new Map(Object.entries(ends).map(([p, o]) => [Number(p), BigInt(o)]));
        for (const [p, o] of Object.entries(starts)) if (!this.next.has(Number(p))) this.next.set(Number(p), BigInt(o));
        // In-process, what the feed read before this is progress too (positions need no gap-free run).
        if (this.positions) for (const [p, o] of this.read) if (o > (this.next.get(p) ?? 0n)) this.next.set(p, o);
        break;
      } catch (err) {
        // The broker may still be settling; usage waits meanwhile (nothing is refused wrongly).
        this.logger.warn({ err, attempt }, `the end of ${topic} could not be read yet; usage waits for the meter feed`);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * attempt)).unref());
      }
    }
    this.logger.log({ topic, targets: Object.fromEntries([...this.targets].map(([p, o]) => [p, String(o)])) }, 'meter feed: catching up before usage is counted');
    this.check();
  }

  /**
   * The feed handled the message at `offset` of `partition` (control messages included). Progress
   * counts only read without a gap from the partition's first message: a consumer that joins at its
   * group's committed offsets hands out messages near the end before the seek to the beginning takes
   * effect, and those alone must not open the gate. In-process the offsets are log positions, read
   * in order from the first with gaps (other streams' events): progress is the highest read.
   */
  note(partition: number, offset: string): void {
    const o = BigInt(offset);
    if (o + 1n > (this.read.get(partition) ?? 0n)) this.read.set(partition, o + 1n);
    const next = this.next.get(partition);
    if (next === undefined || (o > next && !this.positions)) return;
    if (o >= next) this.next.set(partition, o + 1n);
    if (!this.done) this.check();
  }

  private check(): void {
    if (!this.targets) return;
    for (const [p, end] of this.targets) if ((this.next.get(p) ?? 0n) < end) return;
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.targets) this.logger.log({ topic: this.options.entitlementsTopic }, 'meter feed caught up: usage is counted');
    this.release();
  }
}
