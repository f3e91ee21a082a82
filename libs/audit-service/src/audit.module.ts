import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { DataSource } from 'typeorm';
import { TOPICS } from '@el/contracts';
import { EVENT_STORE, type EventStore } from '@el/event-store';
import { INTEGRATION_EVENTS, type IntegrationEvents } from '@el/messaging';
import { Clock, HealthRegistry, JwksController, Keystore, Metrics, PublicKeys, withTimeout, DEPENDENCY_PROBE_MS, type ComponentHealth } from '@el/platform';
import { openReadModels } from '@el/read-models';
import { AUDIT_CONFIG, AUDIT_DB, AUDIT_KEYSTORE, AUDIT_OPTIONS, auditDbConfig, auditKeystoreDir, type AuditConfig, type AuditOptions } from './audit.config';
import { catalogDocument } from '@el/domain';
import { loadDocumentFile } from '@el/platform';
import { DecisionFeedController, DecisionFeedSubscription } from './decisions/decision-feed.controller';
import { DecisionLogStore } from './decisions/decision-log-store';
import { DecisionReplayer, REPLAY_FALLBACK_CATALOG } from './decisions/decision-replayer';
import { DecisionsController } from './decisions/decisions.http.controller';
import { AuditExportController } from './export/audit-export.http.controller';
import { AuditIngest } from './feed/audit-ingest';
import { EventStoreAuditFeed } from './feed/event-store-feed';
import { AuditFeedSubscription, KafkaAuditFeed } from './feed/kafka-feed';
import { AuditHistory } from './history/audit-history';
import { HistoryController } from './history/history.http.controller';
import { AuditLog } from './log/audit-log';
import { ProofsController } from './proofs/proofs.http.controller';
import { GetLatestStoreVerificationController } from './get-latest-store-verification/get-latest-store-verification.http.controller';
import { GetLatestStoreVerificationHandler } from './get-latest-store-verification/get-latest-store-verification.query';
import { StartStoreVerificationHandler } from './start-store-verification/start-store-verification.command';
import { StartStoreVerificationController } from './start-store-verification/start-store-verification.http.controller';
import { StoreVerifications } from './store-verifications/store-verifications';
import { AUDIT_SCHEMA } from './store/schema';
import { TREE_HEAD_KEY_USE } from './tree-heads/tree-head';
import { TreeHeads } from './tree-heads/tree-heads';

@Injectable()
class AuditLifecycle implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
    @Inject(AUDIT_DB) private readonly db: DataSource,
    @Inject(AUDIT_KEYSTORE) private readonly keystore: Keystore,
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
    private readonly log: AuditLog,
    private readonly heads: TreeHeads,
    private readonly ingest: AuditIngest,
    private readonly clock: Clock,
    publicKeys: PublicKeys,
    health: HealthRegistry,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
  ) {
    publicKeys.add(() => this.keystore.jwks(this.clock.now()));
    health.register('audit', () => this.report());
  }

  async onModuleInit(): Promise<void> {
    const started = performance.now();
    // Ordered logs: one partition, kept forever (created so before any consumer could create them otherwise).
    await this.bus.ensureTopics([...(this.options.feed === 'kafka' ? [this.options.feedTopic ?? TOPICS.audit] : []), TOPICS.auditCheckpoints], { log: true });
    await this.log.load();
    await this.heads.load();
    this.logger.log({ events: this.log.size, lastPosition: this.log.lastPosition, treeHead: this.heads.latest?.treeSize ?? null, ms: Math.round(performance.now() - started) }, 'audit log loaded');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.heads.publishPending();
    this.timer = setInterval(() => {
      this.heads.ifGrown().catch((err: unknown) => this.logger.error({ err }, 'could not sign a tree head'));
    }, this.config.AUDIT_TREE_HEAD_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  /** Up while the audit store answers and the feed is not failing; how far behind the event store it is. */
  private async report(): Promise<ComponentHealth> {
    const head = this.heads.latest;
    const facts: Record<string, unknown> = {
      db: this.db.options.type,
      feed: this.options.feed,
      events: this.log.size,
      lastPosition: this.log.lastPosition,
      treeHead: head ? { treeSize: head.treeSize, timestamp: head.timestamp, kid: head.kid } : null,
    };
    try {
      await withTimeout(this.db.query('SELECT 1'), DEPENDENCY_PROBE_MS);
      const ledgerHead = await withTimeout(this.events.headPosition(), DEPENDENCY_PROBE_MS / 2).catch(() => null);
      if (ledgerHead !== null) facts['behind'] = this.events.densePositions ? Math.max(0, ledgerHead - this.log.lastPosition) : ledgerHead > this.log.lastPosition;
    } catch (err) {
      return { status: 'down', reason: `the audit store does not answer: ${(err as Error).message}`, ...facts };
    }
    if (this.ingest.error) return { status: 'degraded', reason: `the audit feed is failing: ${this.ingest.error}`, ...facts };
    const d = this.ingest.divergentEvents;
    if (d) return { status: 'degraded', reason: `${d.count} event(s) arrived that the log does not hold as received (the first at position ${d.first}): run \`npm run audit -- check-store\``, ...facts };
    return { status: 'up', ...facts };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.db.isInitialized) await this.db.destroy();
  }
}


/**
 * The audit service: every event of the ledger, in the log's order, as a
 * leaf of an RFC 6962 Merkle tree in its own store (SQLite or PostgreSQL);
 * Ed25519-signed tree heads (published in the JWKS with use "audit", and on
 * ledger.audit.checkpoints.v1); inclusion and consistency proofs; verifiable
 * exports; history queries. Requires PlatformModule, EventStoreModule,
 * MessagingModule and an Authenticator (IdentityModule).
 */
@Global()
@Module({})
export class AuditModule {
  static register(config: AuditConfig, options: AuditOptions): DynamicModule {
    const db = auditDbConfig(config, options.dataDir);
    return {
      module: AuditModule,
      imports: [CqrsModule.forRoot()],
      controllers: [ProofsController, AuditExportController, HistoryController, DecisionsController, StartStoreVerificationController, GetLatestStoreVerificationController, DecisionFeedController, ...(options.feed === 'kafka' ? [KafkaAuditFeed] : []), ...(options.serveJwks ? [JwksController] : [])],
      providers: [
        { provide: AUDIT_CONFIG, useValue: config },
        { provide: AUDIT_OPTIONS, useValue: options },
        { provide: AUDIT_DB, useFactory: () => openReadModels(db, AUDIT_SCHEMA) },
        {
          provide: AUDIT_KEYSTORE,
          inject: [Clock],
          useFactory: (clock: Clock) =>
            Keystore.open(auditKeystoreDir(config, options.dataDir), {
              create: config.AUDIT_KEYSTORE_CREATE,
              overlapDays: config.AUDIT_KEY_OVERLAP_DAYS,
              now: clock.now(),
              allowSharedRead: config.AUDIT_KEYSTORE_ALLOW_SHARED_READ,
              use: TREE_HEAD_KEY_USE,
              kidPrefix: 'audit-',
              variable: 'AUDIT_KEYSTORE_DIR',
            }),
        },
        { provide: AuditLog, inject: [AUDIT_DB], useFactory: (ds: DataSource) => new AuditLog(ds) },
        {
          provide: TreeHeads,
          inject: [AuditLog, AUDIT_KEYSTORE, INTEGRATION_EVENTS, Clock],
          useFactory: (log: AuditLog, keystore: Keystore, bus: IntegrationEvents, clock: Clock) => new TreeHeads(log, keystore, bus, clock, config.AUDIT_TREE_HEAD_EVERY_EVENTS),
        },
        { provide: AuditIngest, inject: [AuditLog, TreeHeads, Metrics], useFactory: (log: AuditLog, heads: TreeHeads, metrics: Metrics) => new AuditIngest(log, heads, metrics) },
        AuditHistory,
        AuditLifecycle,
        // The decision log (enforcement.decisions.v1) and its replay against the logged history.
        DecisionLogStore,
        DecisionFeedSubscription,
        DecisionReplayer,
        // check-store over HTTP: one background run at a time, kept in memory.
        StoreVerifications,
        StartStoreVerificationHandler,
        GetLatestStoreVerificationHandler,
        // Decisions made before any catalog version reached the enforcement view named hints from its CATALOG_PATH file.
        { provide: REPLAY_FALLBACK_CATALOG, useFactory: () => loadDocumentFile(config.CATALOG_PATH, { variable: 'CATALOG_PATH', what: 'catalog', errorName: 'CatalogLoadError', parse: catalogDocument }) },
        ...(options.feed === 'kafka' ? [AuditFeedSubscription] : [EventStoreAuditFeed]),
      ],
      exports: [AuditLog, TreeHeads],
    };
  }
}
