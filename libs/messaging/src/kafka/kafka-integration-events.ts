import { COMPACTED_TOPICS, SINGLE_PARTITION_TOPICS } from '@el/contracts';
import { AssignerProtocol, ConfigResourceTypes, Kafka, logLevel, Partitioners, type Admin, type Consumer, type IHeaders, type KafkaConfig, type Message, type PartitionAssigner, type Producer } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { withTimeout, type Secret } from '@el/platform';
import { removeGroupMembers } from './group-members';
import { backoff, RESUME_RETRY, SeenIds, type BusHealth, type ConsumeOptions, type IncomingMessage, type IntegrationEvents, type MessageHandler, type OutgoingMessage, type RunningConsumer } from '../integration-events.port';

export type SaslMechanism = 'scram-sha-512' | 'scram-sha-256' | 'plain';

/** How the client proves who it is and protects the connection; nothing (PLAINTEXT) when both are null. */
export interface KafkaSecurity {
  readonly sasl: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: Secret } | null;
  /** TLS (SSL / SASL_SSL listeners): the CA bundle to trust (the system CAs when absent), a client certificate for mutual TLS. */
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: Secret; readonly rejectUnauthorized: boolean } | null;
}

export const PLAINTEXT: KafkaSecurity = { sasl: null, tls: null };

/** Node's TLS options for a KafkaSecurity's `tls` (also what a TLS probe of a broker uses). */
export function tlsConnectionOptions(tls: NonNullable<KafkaSecurity['tls']>): ConnectionOptions {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key.reveal() } : {}),
  };
}

/** The `ssl` and `sasl` settings of a kafkajs client; the one place the password is revealed to it. */
export function kafkajsSecurity(security: KafkaSecurity = PLAINTEXT): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const { sasl, tls } = security;
  return {
    ...(tls ? { ssl: tlsConnectionOptions(tls) } : {}),
    ...(sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password.reveal() } as KafkaConfig['sasl'] } : {}),
  };
}

export interface KafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Partitions of topics this adapter creates. */
  readonly partitions: number;
  /** SASL and TLS; PLAINTEXT when omitted. */
  readonly security?: KafkaSecurity;
  /** Topics created compacted, and refused when they exist without compaction (default COMPACTED_TOPICS). */
  readonly compactedTopics?: ReadonlySet<string>;
  /**
   * Put before every topic name on the brokers (KAFKA_TOPIC_PREFIX): installations
   * sharing a cluster keep to their own topics. The rest of the code, and
   * IncomingMessage.topic, use the names without it.
   */
  readonly topicPrefix?: string;
  readonly log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void;
}

/** A kafkajs error that a later attempt can get past (leader moved, not elected yet, coordinator loading). */
function isRetriable(err: unknown): boolean {
  return (err as { retriable?: unknown })?.retriable === true;
}

/** Errors after which an idempotent producer can never send again: the broker forgot its sequence. */
const PRODUCER_STATE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

function producerStateLost(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 6; depth++) {
    if (e.type && PRODUCER_STATE_LOST.has(e.type)) return true;
    if (/out of order sequence number|unknown producer id/i.test(String((e as { message?: string }).message))) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/** Errors kafkajs reports while a fresh broker elects coordinators: retried internally, not worth an error line. */
const TRANSIENT = /coordinator is loading|coordinator is not available|not the correct coordinator|leader not available|There is no leader/i;

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return out;
}

/**
 * The most bytes (keys, values, headers) of one topic in one produce request.
 * A request carries one record batch per partition, and the broker refuses a
 * batch over its message.max.bytes (1 MiB by default) — refused for good, so
 * a relay batch of large events would retry forever. Bounding each topic's
 * share bounds every partition's.
 */
export const MAX_TOPIC_BYTES_PER_REQUEST = 900 * 1024;

type TopicMessages = { topic: string; messages: Message[] };

/**
 * The publishes of a drain as produce requests, in order: each topic's
 * messages in publish order, a topic's share of a request at most
 * MAX_TOPIC_BYTES_PER_REQUEST (a single larger message goes alone). Values are
 * serialised here, once.
 */
function produceRequests(batch: readonly PendingPublish[]): TopicMessages[][] {
  const requests: Map<string, Message[]>[] = [];
  // Per topic: the request it is filling, and the bytes it has put there.
  const filling = new Map<string, { index: number; bytes: number }>();
  for (const p of batch) {
    let at = filling.get(p.topic) ?? { index: 0, bytes: 0 };
    for (const m of p.messages) {
      const value = JSON.stringify(m.value);
      const headers = m.headers ? { ...m.headers, ce_id: m.id } : { ce_id: m.id };
      let bytes = Buffer.byteLength(value) + Buffer.byteLength(m.key) + Buffer.byteLength(m.id) + 64;
      if (m.headers) for (const [k, v] of Object.entries(m.headers)) bytes += k.length + Buffer.byteLength(v) + 8;
      if (at.bytes > 0 && at.bytes + bytes > MAX_TOPIC_BYTES_PER_REQUEST) at = { index: at.index + 1, bytes: 0 };
      at.bytes += bytes;
      const request = (requests[at.index] ??= new Map());
      let messages = request.get(p.topic);
      if (!messages) request.set(p.topic, (messages = []));
      messages.push({ key: m.key, value, headers, ...(m.partition !== undefined ? { partition: m.partition } : {}) });
    }
    filling.set(p.topic, at);
  }
  return requests.map((r) => [...r].map(([topic, messages]) => ({ topic, messages })));
}

/**
 * IntegrationEvents on Apache Kafka (kafkajs). The producer is idempotent and
 * waits for all in-sync replicas (acks=-1), one request in flight so a retry
 * cannot reorder a key. Consumers commit an offset only after the handler
 * has returned for it: at-least-once. A handler that throws is retried with
 * backoff in place (the partition waits; nothing is skipped).
 */
interface PendingPublish {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class KafkaIntegrationEvents implements IntegrationEvents {
  private readonly kafka: Kafka;
  private readonly publishQueue: PendingPublish[] = [];
  private sending = false;
  private producer: Producer | null = null;
  private producerReady: Promise<Producer> | null = null;
  private readonly consumers = new Set<Consumer>();
  /** What each consumer is doing, for health: joined and fetching, (re)joining, or given up. */
  private readonly consumerStates = new Map<Consumer, { topic: string; group: string; state: 'joining' | 'consuming' | 'restarting' | 'failed'; since: number; error?: string }>();
  /** Groups whose earlier members of this client id were removed (once per process). */
  private readonly evictedGroups = new Set<string>();
  private admin: Admin | null = null;
  private probeAdmin: Admin | null = null;
  private lastProbe: { readonly at: number; readonly result: Promise<{ up: boolean; rttMs?: number; brokers?: number; error?: string }> } | null = null;
  private lastPublishError: { readonly at: number; readonly message: string } | null = null;

  constructor(private readonly options: KafkaOptions) {
    const log = options.log ?? ((level, message, extra) => process.stderr.write(`${JSON.stringify({ level, msg: message, ...extra })}\n`));
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ...kafkajsSecurity(options.security),
      connectionTimeout: 5000,
      // At most half a second between attempts: a broker that comes back is used again within about
      // half a second (kafkajs's default backs off to 30 s). A call still fails after about 10 s of trying.
      retry: { initialRetryTime: 200, maxRetryTime: 500, retries: 20 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }) => {
          const { message, ...extra } = entry as { message: string } & Record<string, unknown>;
          const transient = TRANSIENT.test(String(extra['error'] ?? message));
          log(transient ? 'debug' : level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'info', `kafka: ${message}`, extra);
        },
    });
  }

  private async getProducer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
      await p.connect();
      this.producer = p;
      return p;
    })();
    return this.producerReady;
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }

  private readonly partitionCounts = new Map<string, number>();

  /** The topic's name on the brokers. */
  private physical(topic: string): string {
    return `${this.options.topicPrefix ?? ''}${topic}`;
  }

  /** The name the code knows a topic on the brokers by. */
  private logical(topic: string): string {
    const prefix = this.options.topicPrefix ?? '';
    return prefix && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
  }

  async partitionsOf(topic: string): Promise<number> {
    let n = this.partitionCounts.get(topic);
    if (n === undefined) {
      const meta = await this.whileLeadersSettle(`partitions of ${topic}`, async () => (await this.getAdmin()).fetchTopicMetadata({ topics: [this.physical(topic)] }));
      n = meta.topics[0]!.partitions.length;
      this.partitionCounts.set(topic, n);
    }
    return n;
  }

  private clusterId: Promise<string> | null = null;

  async offsetScope(topic: string): Promise<string> {
    this.clusterId ??= this.whileLeadersSettle('the cluster id', async () => (await this.getAdmin()).describeCluster())
      .then((c) => c.clusterId)
      .catch((err: unknown) => {
        this.clusterId = null;
        throw err;
      });
    return `kafka:${await this.clusterId}/${this.physical(topic)}`;
  }

  async endOffsets(topic: string): Promise<Record<number, string>> {
    return Object.fromEntries((await this.offsetRange(topic)).map((o) => [o.partition, o.high]));
  }

  async startOffsets(topic: string): Promise<Record<number, string>> {
    return Object.fromEntries((await this.offsetRange(topic)).map((o) => [o.partition, o.low]));
  }

  private async offsetRange(topic: string): Promise<{ partition: number; low: string; high: string }[]> {
    return this.whileLeadersSettle(`offsets of ${topic}`, async () => {
      const admin = await this.getAdmin();
      try {
        return await admin.fetchTopicOffsets(this.physical(topic));
      } catch (err) {
        // A partition moved (or just got its first leader): learn where it is now before asking again.
        if (isRetriable(err)) await admin.fetchTopicMetadata({ topics: [this.physical(topic)] }).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * Runs an admin call again while Kafka answers with a retriable error —
   * typically NOT_LEADER_FOR_PARTITION or LEADER_NOT_AVAILABLE on a topic
   * created a moment ago, or during a leader election — for up to ~10 s.
   */
  private async whileLeadersSettle<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!isRetriable(err) || attempt >= 8) throw err;
        this.options.log?.('debug', `kafka: ${what} failed (${(err as Error).message}); retrying`, { attempt });
        await backoff(attempt, { initialMs: 100, maxMs: 3_000 });
      }
    }
  }

  /**
   * A topic read from its beginning as the whole state (ledger.api-keys.v1) must keep every key's
   * newest message: created elsewhere with the default delete policy, old keys would vanish with
   * retention and a restarted service would refuse them. Refused at start, naming the topic.
   */
  private get compacted(): ReadonlySet<string> {
    return this.options.compactedTopics ?? COMPACTED_TOPICS;
  }

  private async assertCompacted(admin: Admin, topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy'] })) });
    for (const r of described.resources) {
      const policy = r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? 'delete';
      if (!policy.split(',').includes('compact')) {
        throw new Error(`Kafka topic ${r.resourceName} has cleanup.policy=${policy}; it must be compacted (cleanup.policy=compact), or keys older than its retention are forgotten: kafka-configs.sh --alter --entity-type topics --entity-name ${r.resourceName} --add-config cleanup.policy=compact`);
      }
    }
  }

  private async assertSinglePartition(admin: Admin, topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
    for (const t of metadata.topics) {
      if (t.partitions.length !== 1) throw new Error(`Kafka topic ${t.name} has ${t.partitions.length} partitions; it must have exactly one, or its messages lose their global order (recreate it with --partitions 1)`);
    }
  }

  async ensureTopics(topics: readonly string[], options: { readonly log?: boolean } = {}): Promise<void> {
    const single = (t: string) => options.log === true || SINGLE_PARTITION_TOPICS.has(this.logical(t));
    const compacted = (t: string) => this.compacted.has(this.logical(t));
    topics = topics.map((t) => this.physical(t));
    // Creating topics while the broker settles (a fresh cluster, another service creating them too)
    // can answer UNKNOWN_TOPIC_OR_PARTITION while the leaders are elected: ask again.
    await this.whileLeadersSettle(`creating ${topics.join(', ')}`, async () => {
      const admin = await this.getAdmin();
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      await this.assertCompacted(admin, topics.filter((t) => existing.has(t) && compacted(t)));
      await this.assertSinglePartition(admin, topics.filter((t) => existing.has(t) && single(t)));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => {
          // An ordered log (the audit feed): one partition, kept forever.
          if (single(topic)) return { topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] };
          return {
            topic,
            numPartitions: this.options.partitions,
            replicationFactor: 1,
            ...(compacted(topic) ? { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } : {}),
          };
        }),
      });
    });
  }

  /**
   * Publishes are coalesced: while one producer request is in flight, the
   * publishes that arrive queue and leave together in the next request (one
   * request in flight keeps every key in order). Resolves once acked by all
   * in-sync replicas.
   */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.publishQueue.push({ topic: this.physical(topic), messages, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.publishQueue.length > 0) {
        const batch = this.publishQueue.splice(0, this.publishQueue.length);
        try {
          const producer = await this.getProducer();
          // One request after another, each acked before the next leaves: a key's messages stay in order.
          for (const topicMessages of produceRequests(batch)) await producer.sendBatch({ acks: -1, topicMessages });
          for (const p of batch) p.resolve();
          this.lastPublishError = null;
        } catch (err) {
          this.lastPublishError = { at: Date.now(), message: (err as Error).message };
          if (producerStateLost(err)) await this.resetProducer();
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * A broker that lost its producer state (killed before it flushed it) refuses every later send of
   * this idempotent producer (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID): no retry gets past
   * it. The next publish starts a new producer (a new producer id); what was refused is published
   * again by its caller, and consumers drop duplicates by id.
   */
  private async resetProducer(): Promise<void> {
    const old = this.producer;
    this.producer = null;
    this.producerReady = null;
    this.options.log?.('warn', 'kafka: the broker lost this producer\'s state; starting a new producer', {});
    await (old ? withTimeout(old.disconnect(), CLOSE_STEP_MS).catch(() => undefined) : undefined);
  }

  async consume(topic: string, group: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<RunningConsumer> {
    const retry = options.retry ?? RESUME_RETRY;
    const dedupe = options.dedupe ?? true;
    const concurrency = Math.max(1, options.concurrency ?? 1);
    const ordered = options.ordered ?? true;
    const seen = new SeenIds();
    await this.removePredecessors(group);
    let memberId: string | null = null;
    let running = true;
    const consumer = this.kafka.consumer({
      groupId: group,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      // kafkajs restarts a consumer that lost its broker as a new member; its former self, which could
      // not leave while the broker was away, would hold the group's rebalance until its session times
      // out (30 s). Removed first, the restarted consumer is back within a second of the broker.
      retry: { retries: 5, restartOnFailure: async () => (await this.removeFormerSelf(group, memberId, () => running), true) },
      ...(options.partitions ? { partitionAssigners: [fixedPartitions(options.partitions)] } : {}),
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => (memberId = e.payload.memberId));
    this.trackState(consumer, topic, group);
    await consumer.connect();
    const logicalTopic = topic;
    topic = this.physical(topic);
    await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
    this.consumers.add(consumer);
    let inBatch: Promise<void> = Promise.resolve();
    // With startFrom: where each partition resumes (the next offset to handle), kept up to date as messages are handled.
    const resumeAt = options.startFrom ? new Map(Object.entries(options.startFrom).map(([p, o]) => [Number(p), o])) : null;
    // Offsets are committed explicitly (autoCommit is off): the next offset after the last message handled.
    const handledUpTo = new Map<number, string>();
    const commit = async (partition: number) => {
      const next = handledUpTo.get(partition);
      if (next === undefined) return;
      handledUpTo.delete(partition);
      await consumer.commitOffsets([{ topic, partition, offset: next }]);
    };
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        let release!: () => void;
        const done = new Promise<void>((r) => (release = r));
        inBatch = inBatch.then(() => done);
        // Offsets handled, in batch order; progress is the longest handled prefix.
        const offsets = batch.messages.map((m) => m.offset);
        const handledSet = new Set<string>();
        let prefix = 0;
        let sinceCommit = 0;
        const advance = async () => {
          const before = prefix;
          while (prefix < offsets.length && handledSet.has(offsets[prefix]!)) prefix += 1;
          if (prefix === before) return;
          const last = offsets[prefix - 1]!;
          resolveOffset(last);
          const next = (BigInt(last) + 1n).toString();
          handledUpTo.set(batch.partition, next);
          if (resumeAt) resumeAt.set(batch.partition, next);
          sinceCommit += prefix - before;
          if (sinceCommit >= 100) {
            sinceCommit = 0;
            await commit(batch.partition);
          }
        };
        const handleOne = async (m: (typeof batch.messages)[number]): Promise<boolean> => {
          const headers = headersOf(m.headers);
          const message: IncomingMessage = {
            topic: logicalTopic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ? m.key.toString('utf8') : null,
            id: headers['ce_id'] ?? null,
            value: m.value,
            headers,
            timestamp: new Date(Number(m.timestamp)).toISOString(),
          };
          if (!(dedupe && seen.has(message.id))) {
            for (let attempt = 1; ; attempt++) {
              try {
                await handler(message);
                break;
              } catch (err) {
                options.onError?.(err, message, attempt);
                if (!running || !isRunning()) return false; // not marked: redelivered after the restart
                await backoff(attempt, retry);
                await heartbeat();
              }
            }
            seen.add(message.id);
          }
          handledSet.add(m.offset);
          return true;
        };
        try {
          // Same key: one after another (unless not `ordered`). Different keys: up to `concurrency` at once.
          const chains = new Map<string, Promise<boolean>>();
          const inFlight = new Set<Promise<boolean>>();
          let stopped = false;
          for (const m of batch.messages) {
            if (stopped || !running || !isRunning() || isStale()) break;
            while (inFlight.size >= concurrency) {
              const ok = await Promise.race(inFlight);
              if (!ok) stopped = true;
              await advance();
              await heartbeat();
            }
            if (stopped) break;
            const key = ordered && m.key ? m.key.toString('utf8') : `\u0000${m.offset}`;
            const previous = chains.get(key) ?? Promise.resolve(true);
            const p: Promise<boolean> = previous.then((ok) => (ok ? handleOne(m) : false));
            chains.set(key, p);
            inFlight.add(p);
            void p.finally(() => inFlight.delete(p));
          }
          await Promise.all(inFlight);
          await advance();
          await commit(batch.partition);
        } finally {
          release();
        }
      },
    });
    if (resumeAt) {
      // A consumer that keeps its own state (a snapshot) resumes exactly where that state is: seek when
      // the group is joined — also after kafkajs restarts a crashed consumer, which would otherwise
      // resume from the committed offsets, possibly ahead of the snapshot it started from.
      const seekAll = () => {
        for (const [partition, offset] of resumeAt) consumer.seek({ topic, partition, offset });
      };
      consumer.on(consumer.events.GROUP_JOIN, seekAll);
      try {
        seekAll();
      } catch {
        // Not joined yet (kafkajs is restarting the consumer): GROUP_JOIN seeks.
      }
    }
    return {
      stop: async () => {
        running = false;
        await inBatch; // the batch in progress stops after its current message and commits what it handled
        for (const partition of [...handledUpTo.keys()]) await commit(partition).catch(() => undefined);
        this.consumers.delete(consumer);
        this.consumerStates.delete(consumer);
        await withTimeout(consumer.disconnect(), CLOSE_STEP_MS).catch(() => undefined);
      },
    };
  }

  private trackState(consumer: Consumer, topic: string, group: string): void {
    const set = (state: 'joining' | 'consuming' | 'restarting' | 'failed', error?: string) =>
      this.consumerStates.set(consumer, { topic, group, state, since: Date.now(), ...(error ? { error } : {}) });
    set('joining');
    consumer.on(consumer.events.GROUP_JOIN, () => set('consuming'));
    consumer.on(consumer.events.REBALANCING, () => set('joining'));
    consumer.on(consumer.events.CRASH, (e) => set(e.payload.restart ? 'restarting' : 'failed', e.payload.error.message));
  }

  /**
   * A process killed without leaving its groups (SIGKILL, a crash) stays a
   * member until its session times out (30 s): a successor joining the group
   * waits for it. Members with this client id are earlier runs of this very
   * instance (the client id names the instance: KAFKA_INSTANCE_ID), so the
   * first consumer of each group removes them before joining — a restart is
   * ready in seconds. A failure only costs that wait.
   */
  private async removePredecessors(group: string): Promise<void> {
    if (this.evictedGroups.has(group)) return;
    this.evictedGroups.add(group);
    try {
      const { groups } = await withTimeout((await this.getAdmin()).describeGroups([group]), 5_000);
      const earlier = (groups[0]?.members ?? []).filter((m) => m.clientId === this.options.clientId).map((m) => m.memberId);
      if (earlier.length === 0) return;
      await withTimeout(removeGroupMembers(this.kafka, group, earlier), 5_000);
      this.options.log?.('info', `kafka: removed ${earlier.length} member(s) an earlier run of ${this.options.clientId} left in group ${group}`, { group, members: earlier });
    } catch (err) {
      this.options.log?.('warn', `kafka: could not remove earlier members of group ${group} (${(err as Error).message}); joining waits for their session to time out`, { group });
    }
  }

  /** Waits (polling the brokers, at most two minutes) until the crashed consumer's member can be removed from its group. */
  private async removeFormerSelf(group: string, memberId: string | null, running: () => boolean): Promise<void> {
    if (!memberId) return;
    const deadline = Date.now() + 120_000;
    while (running() && Date.now() < deadline) {
      if ((await this.probe()).up) {
        try {
          await withTimeout(removeGroupMembers(this.kafka, group, [memberId]), 5_000);
          this.options.log?.('info', `kafka: removed member ${memberId} of group ${group} before restarting its consumer`, { group });
          return;
        } catch (err) {
          // Already gone (its session ended, or the coordinator lost it): nothing to wait for.
          if (/UNKNOWN_MEMBER_ID|not aware of this member/i.test(`${(err as { type?: string }).type ?? ''} ${(err as Error).message}`)) return;
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Whether the brokers answer now (a metadata request, at most one a second
   * whoever asks, no retries), each consumer's state, and the last publish's
   * failure if the last publish failed. Answers within about a second.
   */
  async health(): Promise<BusHealth> {
    const now = Date.now();
    if (!this.lastProbe || now - this.lastProbe.at >= PROBE_EVERY_MS) this.lastProbe = { at: now, result: this.probe() };
    const probe = await this.lastProbe.result;
    const consumers = [...this.consumerStates.values()].map((c) => ({ topic: c.topic, group: c.group, state: c.state, since: new Date(c.since).toISOString(), ...(c.error ? { error: c.error } : {}) }));
    const failed = consumers.filter((c) => c.state === 'failed');
    const status = !probe.up || failed.length > 0 ? 'down' : this.lastPublishError || consumers.some((c) => c.state !== 'consuming') ? 'degraded' : 'up';
    return {
      status,
      kind: 'kafka',
      brokers: this.options.brokers,
      clientId: this.options.clientId,
      ...(probe.up ? { rttMs: probe.rttMs, brokersInCluster: probe.brokers } : { error: `the brokers do not answer: ${probe.error}` }),
      ...(this.lastPublishError ? { lastPublishError: { at: new Date(this.lastPublishError.at).toISOString(), message: this.lastPublishError.message } } : {}),
      consumers,
    };
  }

  private async probe(): Promise<{ up: boolean; rttMs?: number; brokers?: number; error?: string }> {
    const started = performance.now();
    try {
      // Its own client, without retries: the one that does the work may be busy retrying.
      this.probeAdmin ??= this.kafka.admin({ retry: { retries: 0 } });
      const admin = this.probeAdmin;
      const cluster = await withTimeout(
        admin.connect().then(() => admin.describeCluster()),
        PROBE_TIMEOUT_MS,
      );
      return { up: true, rttMs: Math.round((performance.now() - started) * 10) / 10, brokers: cluster.brokers.length };
    } catch (err) {
      // A half-open connection would fail every later probe: start the next one afresh.
      const admin = this.probeAdmin;
      this.probeAdmin = null;
      void admin?.disconnect().catch(() => undefined);
      return { up: false, error: (err as Error).message };
    }
  }

  /** Each step bounded, so a shutdown during an outage finishes within its deadline. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => withTimeout(c.disconnect(), CLOSE_STEP_MS).catch(() => undefined)));
    this.consumers.clear();
    this.consumerStates.clear();
    await Promise.all(
      [this.producer, this.admin, this.probeAdmin].map((client) => (client ? withTimeout(client.disconnect(), CLOSE_STEP_MS).catch(() => undefined) : undefined)),
    );
  }
}

/** The brokers' health is measured at most this often, whoever asks. */
const PROBE_EVERY_MS = 1_000;
/** A probe that takes longer says "down": /health answers within a second. */
const PROBE_TIMEOUT_MS = 700;
/** Each client's disconnect at shutdown (a broker that is down would make kafkajs retry). */
const CLOSE_STEP_MS = 2_000;

/**
 * Assigns the given partitions of every subscribed topic to the group's first member and nothing to
 * the others: a shard of a view reads its partitions in a group of its own (ConsumeOptions.partitions).
 */
function fixedPartitions(partitions: readonly number[]): PartitionAssigner {
  const name = 'el-fixed-partitions';
  return () => ({
    name,
    version: 1,
    async assign({ members, topics }) {
      const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
      return sorted.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: i === 0 ? Object.fromEntries(topics.map((t) => [t, [...partitions]])) : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}
