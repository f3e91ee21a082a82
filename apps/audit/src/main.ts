import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { hostname } from 'node:os';
import { AuditModule, auditDbConfig, auditErrorTable, readAuditServiceConfig } from '@el/audit-service';
import { describeEventStore, EventStoreModule } from '@el/event-store';
import { IdentityModule } from '@el/identity';
import { busConfig, connectBus, describeKafka, MessagingModule } from '@el/messaging';
import { accessPolicy, ConfigError, createHttpApp, listen, PlatformModule, redactCredentials, runMain } from '@el/platform';

/**
 * The audit service on its own (distributed mode): every event of the ledger
 * from ledger.audit.v1 (one partition, the log's order) into its own store
 * (PostgreSQL, or a SQLite file), as the leaves of an RFC 6962 Merkle tree;
 * Ed25519 signed tree heads (its key in its /.well-known/jwks.json, use
 * "audit") on ledger.audit.checkpoints.v1; proofs, history and verifiable
 * exports. It reads the event store too: exports show an event altered there.
 */
runMain('audit', async () => {
  const config = readAuditServiceConfig();
  const bus = busConfig(config, 'audit');
  if (bus.kind !== 'kafka') {
    throw new ConfigError([{ variable: 'BUS', message: 'must be kafka for the audit service on its own (embedded mode, `npm start`, runs it in-process)' }]);
  }
  // Checked before anything connects: a bad AUDIT_DB_* stops the boot naming the variable.
  const db = auditDbConfig(config, config.DATA_DIR);

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'audit', logLevel: config.LOG_LEVEL, errorTable: auditErrorTable, access: accessPolicy(config) }),
      EventStoreModule.forRoot(config),
      MessagingModule.forRoot(bus),
      // API keys arrive on ledger.api-keys.v1 (published by the relay), read under a group of this process's own.
      IdentityModule.forRoot(config, { keys: { from: 'topic', group: `audit-api-keys-${hostname()}-${process.pid}` } }),
      AuditModule.register(config, { feed: 'kafka', feedTopic: config.AUDIT_TOPIC, dataDir: config.DATA_DIR, serveJwks: true }),
    ],
  })
  class AuditAppModule {}

  const app = await createHttpApp(AuditAppModule, {
    title: 'Entitlement Ledger — audit service',
    description:
      'Every event of the ledger as a leaf of an RFC 6962 Merkle tree, Ed25519 signed tree heads (key in /.well-known/jwks.json, use "audit"; also on ledger.audit.checkpoints.v1), ' +
      'inclusion and consistency proofs, history by entitlement, customer, actor and correlation id, and exports anyone can verify with `npm run audit -- verify`.',
    version: process.env['npm_package_version'] ?? '0.1.0',
    ...(config.CORS_ORIGINS ? { corsOrigins: config.CORS_ORIGINS } : {}),
  });
  // ledger.audit.v1: the @EventPattern handler served from Kafka.
  connectBus(app);
  await listen(app, config.PORT, config.HOST, `Audit service is up — store ${db.kind === 'postgres' ? `postgres ${redactCredentials(db.url)}` : `sqlite ${db.path}`}, events ${describeEventStore(config)}, bus kafka ${describeKafka(bus)}`);
});
