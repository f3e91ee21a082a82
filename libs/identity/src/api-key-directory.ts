import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ID_RULE, ID_SCHEMA, TOPICS, type ApiKeyEventV1 } from '@el/contracts';
import { validationFailed, type FieldError } from '@el/platform';
import {
  API_KEYS_STREAM,
  decideCreateApiKey,
  decideRevokeApiKey,
  evolveApiKeys,
  isApiKeyEvent,
  type ApiKeyEvent,
  type ApiKeyRecord,
  type ApiKeyRole,
  type CommandMetadata,
} from '@el/domain';
import { isConcurrencyError, type EventStore, type RecordedEvent } from '@el/event-store';
import { jsonOf, type IntegrationEvents, type RunningConsumer } from '@el/messaging';
import { newApiKey } from './api-key-secret';

const PRINTABLE_NAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,100}$/u;

/**
 * The rules for a key's name and scope, for every way a key is made (the API, the CLI): a name of
 * 1–100 printable characters (it is printed in lists and terminals), customers that are ledger ids,
 * listed once; an empty list is refused rather than read as "all customers".
 */
export function checkApiKeyInput<T extends { name: string; customers: readonly string[] | null }>(input: T): T {
  const problems: FieldError[] = [];
  if (!PRINTABLE_NAME.test(input.name) || input.name.trim() === '') problems.push({ path: 'name', message: 'name must be 1 to 100 printable characters (no control characters, not only spaces)', constraint: 'pattern' });
  if (input.customers !== null) {
    if (input.customers.length === 0) problems.push({ path: 'customers', message: 'customers must list at least one customer (leave it out for a key that sees every customer)', constraint: 'minItems' });
    input.customers.forEach((c, i) => {
      if (!ID_PATTERN.test(c)) problems.push({ path: `customers[${i}]`, message: `customers[${i}] must be ${ID_RULE}`, constraint: 'pattern' });
    });
  }
  if (problems.length > 0) throw validationFailed(problems);
  return input.customers === null ? input : { ...input, customers: [...new Set(input.customers)] };
}

const ID_PATTERN = new RegExp(ID_SCHEMA.pattern);

/** Where a process looks up API keys: the event store's key log, or the ledger.api-keys.v1 topic. */
export interface ApiKeyDirectory {
  /** The key's record as last read (revoked ones included, with revokedAt). */
  get(keyId: string): ApiKeyRecord | undefined;
  /** Rereads now (a key created a moment ago elsewhere); callers are limited to one reread at a time. */
  refresh(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The key log (stream `api-keys`) in the event store: read at start, then
 * reread from the last revision every `refreshMs`, so a revocation made by any
 * process (or the CLI) takes effect here within that time. Also the writer:
 * creation and revocation go through the API key decider.
 */
export class StoreApiKeys implements ApiKeyDirectory {
  private readonly keys = new Map<string, ApiKeyRecord>();
  private revision = -1;
  private reading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly logger = new Logger('api-keys');

  constructor(
    private readonly store: EventStore,
    private readonly refreshMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    if (this.timer || this.refreshMs <= 0) return;
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.logger.warn({ err }, 'rereading the API key log failed; keeping the keys read before')), this.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.reading?.catch(() => undefined);
  }

  get(keyId: string): ApiKeyRecord | undefined {
    return this.keys.get(keyId);
  }

  list(): ApiKeyRecord[] {
    return [...this.keys.values()];
  }

  /** How many keys have ever been created (revoked ones included). */
  get size(): number {
    return this.keys.size;
  }

  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  private async read(): Promise<void> {
    for (;;) {
      const page = await this.store.readStream(API_KEYS_STREAM, { fromRevision: this.revision + 1, maxCount: 1000 });
      for (const r of page) this.apply(r);
      if (page.length < 1000) return;
    }
  }

  private apply(r: RecordedEvent): void {
    if (r.revision <= this.revision) return;
    if (isApiKeyEvent(r)) evolveApiKeys(this.keys, { type: r.type, data: r.data, metadata: r.metadata } as unknown as ApiKeyEvent);
    this.revision = r.revision;
  }

  /** Creates a key; the whole key is in the answer and nowhere else. */
  async create(input: { name: string; role: ApiKeyRole; customers: readonly string[] | null }, metadata: CommandMetadata): Promise<{ key: string; record: ApiKeyRecord }> {
    input = checkApiKeyInput(input);
    const secret = newApiKey();
    const data = { keyId: secret.keyId, name: input.name, role: input.role, customers: input.customers, secretSha256: secret.secretSha256, createdAt: metadata.now };
    await this.decideAndAppend((keys) => decideCreateApiKey({ type: 'CreateApiKey', data, metadata }, keys));
    return { key: secret.key, record: this.keys.get(secret.keyId)! };
  }

  /**
   * The first key of an installation, only while the key log is empty: of
   * processes booting at once, exactly one creates it (the others find the
   * log no longer empty and get null).
   */
  async createFirst(input: { name: string; role: ApiKeyRole }, metadata: CommandMetadata, secret = newApiKey()): Promise<{ key: string; record: ApiKeyRecord } | null> {
    await this.refresh();
    if (this.revision >= 0) return null;
    const data = { keyId: secret.keyId, name: input.name, role: input.role, customers: null, secretSha256: secret.secretSha256, createdAt: metadata.now };
    const events = decideCreateApiKey({ type: 'CreateApiKey', data, metadata }, this.keys);
    try {
      await this.store.append(API_KEYS_STREAM, events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> })), { expectedRevision: 'no_stream' });
    } catch (err) {
      if (isConcurrencyError(err)) return null;
      throw err;
    }
    await this.refresh();
    return { key: secret.key, record: this.keys.get(secret.keyId)! };
  }

  async revoke(keyId: string, reason: string, metadata: CommandMetadata): Promise<ApiKeyRecord> {
    await this.decideAndAppend((keys) => decideRevokeApiKey({ type: 'RevokeApiKey', data: { keyId, reason }, metadata }, keys));
    return this.keys.get(keyId)!;
  }

  private async decideAndAppend(decide: (keys: ReadonlyMap<string, ApiKeyRecord>) => ApiKeyEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.refresh();
      const events = decide(this.keys);
      try {
        await this.store.append(
          API_KEYS_STREAM,
          events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> })),
          { expectedRevision: this.revision < 0 ? 'no_stream' : this.revision },
        );
        await this.refresh();
        return;
      } catch (err) {
        if (!isConcurrencyError(err) || attempt >= 5) throw err;
      }
    }
  }
}

/**
 * The keys as the relay publishes them on ledger.api-keys.v1, for a service
 * without the event store (the enforcement service on Kafka). Every start
 * reads the topic from its beginning (it is compacted and small); a revoked
 * key is dropped. New keys arrive within the relay's lag.
 */
export class TopicApiKeys implements ApiKeyDirectory {
  private readonly keys = new Map<string, ApiKeyRecord>();
  private consumer: RunningConsumer | null = null;
  private caughtUp = false;
  private lastMessageAt: string | null = null;
  private readonly consumerErrors = { count: 0, last: null as string | null };
  private readonly logger = new Logger('api-keys');

  constructor(
    private readonly bus: IntegrationEvents,
    private readonly group: string,
    private readonly topic: string = TOPICS.apiKeys,
  ) {}

  async start(): Promise<void> {
    await this.bus.ensureTopics([this.topic]);
    const partitions = await this.bus.partitionsOf(this.topic);
    const end = await this.bus.endOffsets(this.topic);
    const seen: Record<number, bigint> = {};
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    const check = () => {
      if (Object.entries(end).every(([p, offset]) => BigInt(offset) === 0n || (seen[Number(p)] ?? -1n) >= BigInt(offset) - 1n)) caughtUp();
    };
    this.consumer = await this.bus.consume(
      this.topic,
      this.group,
      async (message) => {
        const value = jsonOf<ApiKeyEventV1>(message);
        if (value.type === 'created') {
          this.keys.set(value.keyId, {
            keyId: value.keyId,
            name: value.name,
            role: value.role as ApiKeyRole,
            customers: value.customers,
            secretSha256: value.secretSha256,
            createdAt: value.createdAt,
            createdBy: value.createdBy,
            revokedAt: null,
            revokedBy: null,
            revokeReason: null,
          });
        } else {
          this.keys.delete(value.keyId);
        }
        seen[message.partition] = BigInt(message.offset);
        this.lastMessageAt = message.timestamp;
        check();
      },
      {
        fromBeginning: true,
        dedupe: false,
        startFrom: Object.fromEntries(Array.from({ length: partitions }, (_, p) => [p, '0'])),
        onError: (err) => {
          this.consumerErrors.count++;
          this.consumerErrors.last = (err as Error).message;
          this.logger.warn({ err }, 'an API key message could not be read');
        },
      },
    );
    check();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 30_000)));
    if ((await Promise.race([ready, late])) === 'late') this.logger.warn({ topic: this.topic }, 'API keys not read to the end of the topic within 30 s; serving with the keys read so far');
    else this.caughtUp = true;
    void ready.then(() => (this.caughtUp = true));
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  get(keyId: string): ApiKeyRecord | undefined {
    return this.keys.get(keyId);
  }

  async refresh(): Promise<void> {
    // Messages arrive as they are published: nothing to reread.
  }

  /** For /health: degraded until the topic was read to its end, or while messages fail (revocations may be missed). */
  health(): { status: 'up' | 'degraded'; topic: string; keys: number; caughtUp: boolean; lastMessageAt: string | null; errors: number; lastError: string | null } {
    const status = this.caughtUp && this.consumerErrors.count === 0 ? 'up' : 'degraded';
    return { status, topic: this.topic, keys: this.keys.size, caughtUp: this.caughtUp, lastMessageAt: this.lastMessageAt, errors: this.consumerErrors.count, lastError: this.consumerErrors.last };
  }
}
