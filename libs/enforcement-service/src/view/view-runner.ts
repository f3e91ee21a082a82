import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TOPICS, WATERMARK_TYPE, type EntitlementEventV1, type WatermarkV1 } from '@el/contracts';
import { BUS_CONFIG, INTEGRATION_EVENTS, jsonOf, typeOf, type BusConfig, type IncomingMessage, type IntegrationEvents, type RunningConsumer } from '@el/messaging';
import { Clock, HealthRegistry, Metrics, type ComponentHealth } from '@el/platform';
import { consumerGroup, ENFORCEMENT_CONFIG, snapshotPath, type EnforcementConfig } from '../enforcement.config';
import { EnforcementView } from './enforcement-view';
import { SnapshotFile } from './snapshot-file';

/** Where the view reads from (tests use their own topics). */
export const ENFORCEMENT_TOPIC = Symbol('ENFORCEMENT_TOPIC');

/**
 * Keeps the enforcement view: restores it from its snapshot, consumes
 * ledger.entitlements.v1 from the snapshot's offsets (or the beginning),
 * writes a new snapshot every ENFORCEMENT_SNAPSHOT_INTERVAL_MS when the view
 * changed and at shutdown, and reports lag on /health and /metrics.
 */
@Injectable()
export class EnforcementViewRunner implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('enforcement-view');
  private readonly snapshots: SnapshotFile;
  private readonly group: string;
  private viewInstance!: EnforcementView;
  private consumer: RunningConsumer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private startEnds: Record<number, string> | null = null;
  private caughtUp = false;
  private lastApplyLagMs = 0;
  private lastMessageAt: number | null = null;
  private lastSnapshot: { at: string; position: number; bytes: number; changes: number } | null = null;
  private lastRejected: { at: string; offset: string; partition: number; reason: string } | null = null;
  private snapshotting: Promise<void> | null = null;
  private readonly messages;

  constructor(
    @Inject(ENFORCEMENT_CONFIG) private readonly config: EnforcementConfig,
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
    @Inject(BUS_CONFIG) busConfig: BusConfig,
    @Inject(ENFORCEMENT_TOPIC) private readonly topic: string,
    private readonly clock: Clock,
    private readonly health: HealthRegistry,
    private readonly metrics: Metrics,
  ) {
    this.snapshots = new SnapshotFile(snapshotPath(config));
    // Every instance needs every partition: its own group on Kafka. In-process the group only names a checkpoint.
    this.group = busConfig.kind === 'kafka' ? consumerGroup(config) : config.ENFORCEMENT_GROUP;
    this.messages = metrics.counter('enforcement_view_messages_total', 'Messages read by the enforcement view, by outcome', ['outcome']);
  }

  get view(): EnforcementView {
    return this.viewInstance;
  }

  onModuleInit(): void {
    const loaded = this.snapshots.load(this.topic);
    if (loaded.kind === 'unusable') this.logger.warn({ reason: loaded.reason }, 'snapshot unusable; rebuilding the view from the beginning of the topic');
    this.viewInstance = new EnforcementView(this.topic, loaded.kind === 'loaded' ? loaded.snapshot : undefined);
    if (loaded.kind === 'loaded') {
      this.lastSnapshot = { at: loaded.snapshot.takenAt, position: loaded.snapshot.position, bytes: 0, changes: 0 };
      this.logger.log({ path: this.snapshots.path, position: loaded.snapshot.position, entitlements: loaded.snapshot.entitlements.length, offsets: loaded.snapshot.offsets }, 'view restored from snapshot');
    }
    this.registerObservability();
  }

  async onApplicationBootstrap(): Promise<void> {
    const partitions = await this.bus.partitionsOf(this.topic);
    const restored = this.viewInstance.nextOffsets();
    const startFrom: Record<number, string> = {};
    for (let p = 0; p < partitions; p++) startFrom[p] = restored[p] ?? '0';
    this.startEnds = await this.bus.endOffsets(this.topic);
    this.updateCaughtUp();
    this.consumer = await this.bus.consume(this.topic, this.group, (m) => this.handle(m), {
      startFrom,
      // Full states with revisions: a redelivered message changes nothing, no need to remember ids.
      dedupe: false,
      onError: (err, m, attempt) => this.logger.warn({ err, partition: m.partition, offset: m.offset, attempt }, 'view update failed; retrying'),
    });
    this.logger.log({ topic: this.topic, group: this.group, startFrom, endOffsets: this.startEnds }, 'enforcement view consuming');
    if (this.config.ENFORCEMENT_SNAPSHOT_INTERVAL_MS > 0) {
      this.timer = setInterval(() => void this.snapshot().catch((err) => this.logger.error({ err }, 'snapshot failed')), this.config.ENFORCEMENT_SNAPSHOT_INTERVAL_MS);
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.consumer?.stop();
    this.consumer = null;
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
      const snap = view.snapshot(this.clock.now());
      const changes = view.changes;
      const bytes = await this.snapshots.save(snap);
      this.lastSnapshot = { at: snap.takenAt, position: snap.position, bytes, changes };
      this.logger.debug({ position: snap.position, entitlements: snap.entitlements.length, bytes, ms: Math.round(performance.now() - started) }, 'snapshot written');
    })().finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private async handle(m: IncomingMessage): Promise<void> {
    const type = typeOf(m);
    if (type === WATERMARK_TYPE) {
      this.viewInstance.applyWatermark(jsonOf<WatermarkV1>(m).data);
      this.messages.inc({ outcome: 'watermark' });
    } else {
      const problem = this.applyChange(m, type);
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
    if (!e || typeof e.entitlementId !== 'string' || typeof e.customerId !== 'string' || !Number.isInteger(e.revision) || !Array.isArray(e.assignedUsers) || !Array.isArray(e.devices)) {
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
    const ends = await this.bus.endOffsets(this.topic);
    const next = this.viewInstance.nextOffsets();
    let total = 0n;
    for (const [p, end] of Object.entries(ends)) {
      const d = BigInt(end) - BigInt(next[Number(p)] ?? '0');
      if (d > 0n) total += d;
    }
    return Number(total);
  }

  private async report(): Promise<ComponentHealth> {
    const view = this.viewInstance;
    let behind: number | null = null;
    try {
      behind = await this.behind();
    } catch {
      /* the bus is unreachable: reported by its own component */
    }
    const lagSeconds = this.lastApplyLagMs / 1000;
    const status = !this.consumer || !this.caughtUp ? 'down' : behind !== null && behind > 0 && lagSeconds > this.config.CHECK_MAX_LAG_SECONDS ? 'degraded' : 'up';
    return {
      status,
      ...(this.caughtUp ? {} : { reason: this.consumer ? 'replaying the topic into the view' : 'not consuming yet' }),
      topic: this.topic,
      group: this.group,
      position: view.position,
      lastEventPosition: view.lastEventPosition,
      lag: { messages: behind, seconds: lagSeconds, lastMessageAt: this.lastMessageAt ? new Date(this.lastMessageAt).toISOString() : null },
      ...view.size,
      snapshot: { path: this.snapshots.path, ...(this.lastSnapshot ? { takenAt: this.lastSnapshot.at, position: this.lastSnapshot.position } : { takenAt: null }) },
      ...(this.lastRejected ? { lastRejected: this.lastRejected } : {}),
    };
  }

  private registerObservability(): void {
    this.health.register('enforcementView', () => this.report());
    this.metrics.gauge('enforcement_view_position', 'Ledger position every change up to which is in the view', [], (g) => g.set(this.viewInstance.position));
    this.metrics.gauge('enforcement_view_entitlements', 'Entitlements held by the view', [], (g) => g.set(this.viewInstance.size.entitlements));
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
