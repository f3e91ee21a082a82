import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CATALOG_PUBLISHED_TYPE, INSTALLATION_HEADER, partitionOf, TOPICS, WATERMARK_TYPE, type CatalogPublishedV1, type EntitlementEventV1, type WatermarkV1 } from '@el/contracts';
import { BUS_CONFIG, INTEGRATION_EVENTS, LEDGER_INSTALLATION, LedgerInstallation, jsonOf, typeOf, type BusConfig, type BusSubscription, type BusSubscriptionSource, type IncomingMessage, type IntegrationEvents } from '@el/messaging';
import { Clock, ConfigError, HealthRegistry, Metrics, withTimeout, DEPENDENCY_PROBE_MS, type ComponentHealth } from '@el/platform';
import { consumerGroup, ENFORCEMENT_CONFIG, snapshotPath, type EnforcementConfig } from '../enforcement.config';
import { EnforcementView } from './enforcement-view';
import { SnapshotFile } from './snapshot-file';

/** Where the view reads from (tests use their own topics). */
export const ENFORCEMENT_TOPIC = Symbol('ENFORCEMENT_TOPIC');

/**
 * Keeps the enforcement view: restores it from its snapshot when the snapshot
 * belongs to the feed it reads (same bus, broker, topic and partitions), is
 * fed ledger.entitlements.v1 from the snapshot's offsets (or the beginning) by
 * `EntitlementFeedController`, writes a new snapshot every
 * ENFORCEMENT_SNAPSHOT_INTERVAL_MS when the view changed and at shutdown, and
 * reports lag on /health and /metrics.
 */
@Injectable()
export class EnforcementViewRunner implements OnModuleInit, OnApplicationShutdown, BusSubscriptionSource {
  private readonly logger = new Logger('enforcement-view');
  private readonly snapshots: SnapshotFile;
  private readonly group: string;
  private viewInstance!: EnforcementView;
  private consuming = false;
  private timer: NodeJS.Timeout | null = null;
  private startEnds: Record<number, string> | null = null;
  private caughtUp = false;
  /** Messages read while replaying (before caught up), and since when: the replay's rate and ETA on /health. */
  private readonly replay = { since: 0, read: 0 };
  private lastApplyLagMs = 0;
  private lastMessageAt: number | null = null;
  private lastSnapshot: { at: string; position: number; bytes: number; changes: number } | null = null;
  private lastRejected: { at: string; offset: string; partition: number; reason: string } | null = null;
  private snapshotting: Promise<void> | null = null;
  /** The view being read from its snapshot file (for /health meanwhile). */
  private restoring: EnforcementView | null = null;
  private readonly messages;
  /** The installation whose messages this view reads (null: not known, every message is read). */
  private expectedInstallation: string | null = null;
  /** Installations seen on the topic, with how many of their messages were skipped (0: read). */
  private readonly installationsSeen = new Map<string, number>();
  /** The partitions this instance holds (VIEW_PARTITIONS); null: every one. */
  readonly holds: readonly number[] | null;
  /** The topic's partitions (known once started). */
  private partitionCount = 0;

  constructor(
    @Inject(ENFORCEMENT_CONFIG) private readonly config: EnforcementConfig,
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
    @Inject(BUS_CONFIG) busConfig: BusConfig,
    @Inject(ENFORCEMENT_TOPIC) private readonly topic: string,
    private readonly clock: Clock,
    private readonly health: HealthRegistry,
    private readonly metrics: Metrics,
    @Optional() @Inject(LEDGER_INSTALLATION) private readonly installation?: LedgerInstallation,
  ) {
    this.snapshots = new SnapshotFile(snapshotPath(config));
    // Every instance needs every partition: its own group on Kafka. In-process the group only names a checkpoint.
    this.group = busConfig.kind === 'kafka' ? consumerGroup(config) : config.ENFORCEMENT_GROUP;
    this.messages = metrics.counter('enforcement_view_messages_total', 'Messages read by the enforcement view, by outcome', ['outcome']);
    this.holds = config.VIEW_PARTITIONS;
    if (this.holds && busConfig.kind !== 'kafka') {
      throw new ConfigError([{ variable: 'VIEW_PARTITIONS', message: `shards the partitions of a Kafka topic; this process runs BUS=${busConfig.kind} (one partition): leave it unset, or set BUS=kafka` }]);
    }
  }

  /**
   * Null when this instance holds the customer's partition; else where the customer is: its
   * partition, and the partitions this instance holds (a check for it belongs to another shard).
   */
  notHeld(customerId: string): { customerId: string; partition: number; holds: readonly number[]; partitions: number } | null {
    if (!this.holds || this.partitionCount === 0) return null;
    const partition = partitionOf(customerId, this.partitionCount);
    return this.holds.includes(partition) ? null : { customerId, partition, holds: this.holds, partitions: this.partitionCount };
  }

  /** The offsets of the partitions this instance holds. */
  private held(offsets: Record<number, string>): Record<number, string> {
    if (!this.holds) return offsets;
    return Object.fromEntries(this.holds.map((p) => [p, offsets[p]!]));
  }

  get view(): EnforcementView {
    return this.viewInstance;
  }

  /** False while the view replays its topic up to where it stood at start: checks then answer stale. */
  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  async onModuleInit(): Promise<void> {
    const [scope, allEnds] = await Promise.all([this.bus.offsetScope(this.topic), this.bus.endOffsets(this.topic)]);
    this.partitionCount = Object.keys(allEnds).length;
    const missing = (this.holds ?? []).filter((p) => allEnds[p] === undefined);
    if (missing.length > 0) {
      const n = this.partitionCount;
      throw new ConfigError([{ variable: 'VIEW_PARTITIONS', message: `${this.topic} has ${n} partition${n === 1 ? '' : 's'} (0-${n - 1}); ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not among them` }]);
    }
    const endOffsets = this.held(allEnds);
    this.startEnds = endOffsets;
    // Registered first: while a big snapshot is read, /health (answered from the start) says so.
    this.registerObservability();
    this.viewInstance = await this.restore(scope, endOffsets);
    this.updateCaughtUp();
    if (this.config.ENFORCEMENT_SNAPSHOT_INTERVAL_MS > 0) {
      this.timer = setInterval(() => void this.snapshot().catch((err) => this.logger.error({ err }, 'snapshot failed')), this.config.ENFORCEMENT_SNAPSHOT_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** The view from its snapshot file (read a line at a time), or an empty one when there is none or it cannot be used. */
  private async restore(scope: string, endOffsets: Record<number, string>): Promise<EnforcementView> {
    const started = performance.now();
    const loaded = await this.snapshots.load({ topic: this.topic, scope, endOffsets, partitions: this.partitionCount, holds: this.holds });
    if (loaded.kind === 'none') return new EnforcementView(this.topic, scope, undefined, this.holds);
    if (loaded.kind === 'unusable') {
      this.logger.warn({ reason: loaded.reason }, 'snapshot unusable; rebuilding the view from the beginning of the topic');
      return new EnforcementView(this.topic, scope, undefined, this.holds);
    }
    const view = new EnforcementView(this.topic, scope, loaded.header, this.holds);
    this.restoring = view;
    try {
      await view.restoreLines(loaded.lines);
    } catch (err) {
      this.logger.warn({ reason: (err as Error).message }, 'snapshot unusable; rebuilding the view from the beginning of the topic');
      return new EnforcementView(this.topic, scope, undefined, this.holds);
    } finally {
      this.restoring = null;
    }
    this.lastSnapshot = { at: loaded.header.takenAt, position: loaded.header.position, bytes: 0, changes: 0 };
    this.logger.log({ path: this.snapshots.path, position: loaded.header.position, entitlements: view.size.entitlements, offsets: loaded.header.offsets, ms: Math.round(performance.now() - started) }, 'view restored from snapshot');
    return view;
  }

  /** How the feed is consumed: this instance's group, from the snapshot's offsets (the next one of each partition). */
  async subscription(): Promise<BusSubscription> {
    // Asked when the feed starts, after every boot hook: an embedded process's store holds its first event by then.
    this.expectedInstallation = (await this.installation?.expected().catch(() => null)) ?? null;
    const restored = this.viewInstance.nextOffsets();
    const startFrom: Record<number, string> = {};
    for (const p of Object.keys(this.startEnds ?? { 0: '0' })) startFrom[Number(p)] = restored[Number(p)] ?? '0';
    this.consuming = true;
    this.logger.log({ topic: this.topic, group: this.group, startFrom, endOffsets: this.startEnds, holds: this.holds ?? 'every partition' }, 'enforcement view consuming');
    // Full states with revisions: a redelivered message changes nothing, no need to remember ids.
    return { group: this.group, topic: this.topic, startFrom, dedupe: false, ...(this.holds ? { partitions: this.holds } : {}) };
  }

  /** Runs after the bus transport has stopped the feed (it closes before shutdown hooks): the last snapshot is complete. */
  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.consuming = false;
    this.viewInstance?.cancelWaits();
    if (this.viewInstance) await this.snapshot().catch((err) => this.logger.error({ err }, 'final snapshot failed'));
  }

  /** Writes the view to its snapshot file if it changed since the last one. */
  async snapshot(): Promise<void> {
    if (this.snapshotting) return this.snapshotting;
    const view = this.viewInstance;
    if (this.lastSnapshot && this.lastSnapshot.changes === view.changes && this.lastSnapshot.bytes > 0) return;
    if (!this.lastSnapshot && view.changes === 0) return;
    this.snapshotting = (async () => {
      const started = performance.now();
      const header = view.snapshotHeader(this.clock.now());
      const changes = view.changes;
      const { bytes, lines } = await this.snapshots.save(header, view.lines());
      this.lastSnapshot = { at: header.takenAt, position: header.position, bytes, changes };
      this.logger.debug({ position: header.position, entitlements: view.size.entitlements, lines, bytes, ms: Math.round(performance.now() - started) }, 'snapshot written');
    })().finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  /** Applies one message of the feed (an entitlement change, a watermark or a catalog version); never throws for a bad message. */
  handle(m: IncomingMessage): void {
    if (!this.caughtUp) {
      this.replay.since ||= performance.now();
      this.replay.read += 1;
    }
    if (!this.ofThisInstallation(m)) {
      // Another installation's message on the same topic (a shared cluster without KAFKA_TOPIC_PREFIX): its positions are not ours.
      this.messages.inc({ outcome: 'other_installation' });
      this.viewInstance.markRead(m.partition, m.offset);
      if (!this.caughtUp) this.updateCaughtUp();
      return;
    }
    const type = typeOf(m);
    if (type === WATERMARK_TYPE) {
      const before = this.viewInstance.catalog;
      this.viewInstance.applyWatermark(jsonOf<WatermarkV1>(m).data);
      this.messages.inc({ outcome: 'watermark' });
      if (this.viewInstance.catalog !== before) this.catalogInForce();
    } else {
      const problem = type === CATALOG_PUBLISHED_TYPE ? this.applyCatalog(m) : this.applyChange(m, type);
      if (problem) {
        // The ledger's own topic should never carry this; never block the view on it, but make it visible.
        this.lastRejected = { at: this.clock.now().toISOString(), partition: m.partition, offset: m.offset, reason: problem };
        this.messages.inc({ outcome: 'rejected' });
        this.logger.error({ partition: m.partition, offset: m.offset, reason: problem }, 'message skipped by the enforcement view');
      }
    }
    this.viewInstance.markRead(m.partition, m.offset);
    const now = this.clock.now().getTime();
    const sent = Date.parse(m.timestamp);
    if (!Number.isNaN(sent)) this.lastApplyLagMs = Math.max(0, now - sent);
    this.lastMessageAt = now;
    if (!this.caughtUp) this.updateCaughtUp();
  }

  /** True when the message is from the installation this view reads (or carries no installation, or none is expected). */
  private ofThisInstallation(m: IncomingMessage): boolean {
    const from = m.headers[INSTALLATION_HEADER];
    if (from === undefined) return true;
    const ours = this.expectedInstallation === null || from === this.expectedInstallation;
    const skipped = this.installationsSeen.get(from);
    if (skipped === undefined) {
      if (!ours) this.logger.warn({ installation: from, expected: this.expectedInstallation, topic: this.topic }, 'skipping the messages of another installation on this topic (give each installation its own KAFKA_TOPIC_PREFIX)');
      this.installationsSeen.set(from, ours ? 0 : 1);
    } else if (!ours) this.installationsSeen.set(from, skipped + 1);
    return ours;
  }

  /** The installations on the topic, for /health: mixed ones are a misconfiguration to fix, and unsafe when this view cannot tell which is its own. */
  private installationReport(): { installation: Record<string, unknown>; problem: string | null } {
    const others = [...this.installationsSeen].filter(([id]) => id !== this.expectedInstallation);
    const installation = {
      reads: this.expectedInstallation ?? 'every installation on the topic',
      from: this.expectedInstallation ? this.installation?.source : null,
      ...(others.length > 0 ? { others: Object.fromEntries(others.map(([id, skipped]) => [id, { skippedMessages: skipped }])) } : {}),
    };
    const mixed = this.expectedInstallation === null && this.installationsSeen.size > 1;
    return {
      installation,
      problem: mixed ? `${this.topic} carries the messages of ${this.installationsSeen.size} installations and this view cannot tell which is its own: give each installation its own KAFKA_TOPIC_PREFIX, or set LEDGER_INSTALLATION_ID (the ledger's /health shows it under bus.installation)` : null,
    };
  }

  /** Returns why the catalog message could not be applied, or null. */
  private applyCatalog(m: IncomingMessage): string | null {
    let c: CatalogPublishedV1;
    try {
      c = jsonOf<CatalogPublishedV1>(m);
    } catch (err) {
      return `not JSON: ${(err as Error).message}`;
    }
    const d = c?.data;
    if (!Number.isInteger(c?.position) || !Number.isInteger(d?.version) || typeof d?.hash !== 'string' || !Array.isArray(d?.catalog?.products) || !Array.isArray(d?.catalog?.addOns)) {
      return 'not a catalog version (position, data.version, data.hash, data.catalog)';
    }
    const before = this.viewInstance.catalog;
    this.messages.inc({ outcome: this.viewInstance.applyCatalog(c) ? 'catalog' : 'duplicate' });
    if (this.viewInstance.catalog !== before) this.catalogInForce();
    return null;
  }

  private catalogInForce(): void {
    const c = this.viewInstance.catalog!;
    this.logger.log({ version: c.version, label: c.label, position: c.position }, 'catalog in force for checks');
  }

  /** Returns why the message could not be applied, or null. */
  private applyChange(m: IncomingMessage, type: string | null): string | null {
    let event: EntitlementEventV1;
    try {
      event = jsonOf<EntitlementEventV1>(m);
    } catch (err) {
      return `not JSON: ${(err as Error).message}`;
    }
    const e = event?.data?.entitlement;
    if (!(type ?? event.type)?.startsWith('io.ledger.entitlement.')) return `unknown type ${JSON.stringify(type ?? event?.type)}`;
    if (!e || typeof e.entitlementId !== 'string' || typeof e.customerId !== 'string' || !Number.isInteger(e.revision) || !Array.isArray(e.assignedUsers) || !Array.isArray(e.devices) || !ENTITLEMENT_STATUSES.has(e.status)) {
      return 'data.entitlement is not an entitlement state';
    }
    this.messages.inc({ outcome: this.viewInstance.applyChange(event) ? 'applied' : 'duplicate' });
    return null;
  }

  private updateCaughtUp(): void {
    if (!this.startEnds) return;
    const next = this.viewInstance.nextOffsets();
    this.caughtUp = Object.entries(this.startEnds).every(([p, end]) => BigInt(end) === 0n || BigInt(next[Number(p)] ?? '0') >= BigInt(end));
    if (this.caughtUp) this.logger.log({ position: this.viewInstance.position, entitlements: this.viewInstance.size.entitlements }, 'enforcement view caught up');
  }

  /** Messages the view has not read yet, over every partition. */
  async behind(): Promise<number> {
    return (await this.progress()).behind;
  }

  /** How far the view is from the end of its topic, and why its offsets cannot be right if they are past that end. */
  private replayProgress(behind: number | null): ReplayProgress {
    return replayProgress(this.replay.read, this.replay.since ? (performance.now() - this.replay.since) / 1000 : 0, behind);
  }

  private async progress(): Promise<{ behind: number; ahead: string | null }> {
    const ends = this.held(await this.bus.endOffsets(this.topic));
    const next = this.viewInstance.nextOffsets();
    let behind = 0n;
    let ahead: string | null = null;
    for (const [p, end] of Object.entries(ends)) {
      const read = BigInt(next[Number(p)] ?? '0');
      if (BigInt(end) > read) behind += BigInt(end) - read;
      if (read > BigInt(end)) ahead ??= `the view has read partition ${p} up to offset ${read}, past its end ${end}: restart the service to rebuild the view`;
    }
    return { behind: Number(behind), ahead };
  }

  private async report(): Promise<ComponentHealth> {
    const view = this.viewInstance as EnforcementView | undefined;
    if (!view) return { status: 'down', reason: 'restoring the view from its snapshot', topic: this.topic, restored: this.restoring?.size.entitlements ?? 0, snapshot: { path: this.snapshots.path } };
    let progress: { behind: number; ahead: string | null } | null = null;
    try {
      progress = await withTimeout(this.progress(), DEPENDENCY_PROBE_MS);
    } catch {
      /* the bus is unreachable: reported by its own component */
    }
    const lagSeconds = this.lastApplyLagMs / 1000;
    const behind = progress?.behind ?? null;
    const installations = this.installationReport();
    const status = !this.consuming || !this.caughtUp || progress?.ahead ? 'down' : installations.problem || (behind !== null && behind > 0 && lagSeconds > this.config.CHECK_MAX_LAG_SECONDS) ? 'degraded' : 'up';
    return {
      status,
      ...(progress?.ahead ? { reason: progress.ahead } : !this.caughtUp ? { reason: this.consuming ? 'replaying the topic into the view' : 'not consuming yet' } : installations.problem ? { reason: installations.problem } : {}),
      installation: installations.installation,
      topic: this.topic,
      group: this.group,
      ...(this.holds ? { shard: { holds: this.holds, partitions: this.partitionCount } } : {}),
      position: view.position,
      lastEventPosition: view.lastEventPosition,
      held: view.held,
      catalogVersion: view.catalog?.version ?? null,
      lag: { messages: behind, seconds: lagSeconds, lastMessageAt: this.lastMessageAt ? new Date(this.lastMessageAt).toISOString() : null },
      ...(!this.caughtUp && this.consuming ? { replay: this.replayProgress(behind) } : {}),
      ...view.size,
      snapshot: { path: this.snapshots.path, ...(this.lastSnapshot ? { takenAt: this.lastSnapshot.at, position: this.lastSnapshot.position } : { takenAt: null }) },
      ...(this.lastRejected ? { lastRejected: this.lastRejected } : {}),
    };
  }

  private registerObservability(): void {
    this.health.register('enforcementView', () => this.report());
    this.metrics.gauge('enforcement_view_position', 'Ledger position every change up to which is in the view', [], (g) => g.set(this.viewInstance?.position ?? 0));
    this.metrics.gauge('enforcement_view_catalog_version', 'Catalog version in force at the view position (0: none read yet; upgrade hints come from CATALOG_PATH)', [], (g) => g.set(this.viewInstance?.catalog?.version ?? 0));
    this.metrics.gauge('enforcement_view_entitlements', 'Entitlements held by the view', [], (g) => g.set(this.viewInstance?.size.entitlements ?? 0));
    this.metrics.gauge('enforcement_view_lag_seconds', 'How late the newest message arrived (its publish time to applied)', [], (g) => g.set(this.lastApplyLagMs / 1000));
    this.metrics.gauge('enforcement_view_messages_behind', 'Messages of ledger.entitlements.v1 not read yet', [], async (g) => {
      try {
        g.set(await this.behind());
      } catch {
        /* unknown while the bus is unreachable */
      }
    });
  }
}

export const DEFAULT_ENFORCEMENT_TOPIC = TOPICS.entitlements;

/** The statuses a state may have: one this version does not know is refused, never taken for active. */
const ENTITLEMENT_STATUSES: ReadonlySet<unknown> = new Set(['active', 'suspended', 'expired', 'revoked']);

export interface ReplayProgress {
  readonly read: number;
  /** Messages read per second so far (null in the first half second, or before the first message). */
  readonly perSecond: number | null;
  /** When the replay should be done at that rate (null while the rate or what is left is unknown). */
  readonly etaSeconds: number | null;
}

/** A replay's progress: `read` messages in `seconds`, `behind` left to read. */
export function replayProgress(read: number, seconds: number, behind: number | null): ReplayProgress {
  const perSecond = seconds >= 0.5 && read > 0 ? read / seconds : null;
  return { read, perSecond: perSecond === null ? null : Math.round(perSecond), etaSeconds: perSecond !== null && behind !== null ? Math.ceil(behind / perSecond) : null };
}
