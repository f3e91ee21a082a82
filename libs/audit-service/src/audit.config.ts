import { join } from 'node:path';
import { eventStoreConfigSpec } from '@el/event-store';
import { identityConfigSpec } from '@el/identity';
import { messagingConfigSpec } from '@el/messaging';
import { baseServiceConfigSpec, env, readConfig, secretVariables, type ConfigOf } from '@el/platform';
import { postgresDbConfig, type ReadDbConfig } from '@el/read-models';

/** The audit service's own variables. */
export const auditConfigSpec = {
  CATALOG_PATH: env.string({ default: './catalog/sample-catalog.yaml', description: 'Product catalog (YAML or JSON): the upgrade hints of decisions made before any catalog version reached the enforcement view are replayed from it' }),
  AUDIT_DB: env.oneOf(['sqlite', 'postgres'] as const, { default: 'sqlite', description: 'Where the audit log (events, leaf hashes, signed tree heads, decisions) is kept: sqlite (DATA_DIR/audit.db) or postgres (AUDIT_DB_URL)' }),
  AUDIT_DB_PATH: env.string({ default: '', description: 'SQLite file of the audit store (default DATA_DIR/audit.db)' }),
  AUDIT_DB_URL: env.url({ protocols: ['postgres', 'postgresql'], description: 'PostgreSQL URL of the audit store; required when AUDIT_DB=postgres (the password in AUDIT_DB_PASSWORD_FILE)' }),
  ...secretVariables('AUDIT_DB_PASSWORD', { description: 'Password of the AUDIT_DB_URL user, when the URL holds none' }),
  AUDIT_DB_SSL_MODE: env.oneOf(['disable', 'require', 'verify-ca', 'verify-full'] as const, { default: 'disable', description: 'TLS to the audit PostgreSQL, as READ_DB_SSL_MODE' }),
  AUDIT_DB_SSL_CA_FILE: env.string({ description: 'PEM CA certificates that verify the audit PostgreSQL server (verify-ca, verify-full; default: the system CAs)' }),
  AUDIT_DB_POOL_SIZE: env.int({ default: 5, min: 1, max: 200, description: 'PostgreSQL connections of the audit store per process' }),
  AUDIT_KEYSTORE_DIR: env.string({ default: '', description: 'Directory of the Ed25519 key that signs tree heads (keystore.json, mode 0600; default DATA_DIR/audit-keys); published in the JWKS with use "audit"' }),
  AUDIT_KEYSTORE_CREATE: env.bool({ default: true, description: 'Create the tree-head signing key when there is none (set false in production so a missing secret stops the boot)' }),
  AUDIT_KEYSTORE_ALLOW_SHARED_READ: env.bool({ default: false, description: 'Accept an audit keystore.json that group or others may read (a secret volume mounted with mode 0644)' }),
  AUDIT_KEY_OVERLAP_DAYS: env.int({ default: 3650, min: 1, max: 36_500, description: 'How long a rotated-out tree-head key stays in the JWKS (tree heads are verified for years: keep it long)' }),
  AUDIT_TREE_HEAD_EVERY_EVENTS: env.int({ default: 1000, min: 1, max: 10_000_000, description: 'Sign a tree head once the log grew by this many events since the last one' }),
  AUDIT_TREE_HEAD_INTERVAL_SECONDS: env.int({ default: 60, min: 1, max: 86_400, description: 'Sign a tree head at least this often while the log grows' }),
  AUDIT_FEED_GROUP: env.string({ default: 'audit', description: 'Kafka consumer group of the audit service on ledger.audit.v1 (its progress is kept in the audit store, not by the group)' }),
};
export type AuditConfig = ConfigOf<typeof auditConfigSpec>;

/** Everything the audit service process reads (apps/audit). It keeps the event store too: check-store and the export compare against it. */
export const auditServiceConfigSpec = { ...baseServiceConfigSpec, ...identityConfigSpec, ...eventStoreConfigSpec, ...messagingConfigSpec, ...auditConfigSpec };
export type AuditServiceConfig = ConfigOf<typeof auditServiceConfigSpec>;

export function readAuditServiceConfig(source: NodeJS.ProcessEnv = process.env): AuditServiceConfig {
  return readConfig(auditServiceConfigSpec, source);
}

export function auditDbConfig(config: AuditConfig, dataDir: string): ReadDbConfig {
  if (config.AUDIT_DB === 'postgres') return postgresDbConfig('AUDIT_DB', config, config.AUDIT_DB_POOL_SIZE);
  return { kind: 'sqlite', path: config.AUDIT_DB_PATH || join(dataDir, 'audit.db') };
}

export function auditKeystoreDir(config: AuditConfig, dataDir: string): string {
  return config.AUDIT_KEYSTORE_DIR || join(dataDir, 'audit-keys');
}

export const AUDIT_CONFIG = Symbol('AUDIT_CONFIG');
export const AUDIT_DB = Symbol('AUDIT_DB');
export const AUDIT_OPTIONS = Symbol('AUDIT_OPTIONS');
/** The audit service's own signing keys (tree heads), published in the JWKS with use "audit". */
export const AUDIT_KEYSTORE = Symbol('AUDIT_KEYSTORE');

export interface AuditOptions {
  /**
   * Where the events come from: the event store's log in this process
   * (embedded), or ledger.audit.v1 on Kafka (the audit service on its own).
   */
  readonly feed: 'event-store' | 'kafka';
  /** The data directory (default paths of the store and the key). */
  readonly dataDir: string;
  /** The audit feed's Kafka topic (AUDIT_TOPIC; default ledger.audit.v1). */
  readonly feedTopic?: string;
  /** Serve /.well-known/jwks.json here (the audit service on its own; embedded, the ledger serves it). */
  readonly serveJwks: boolean;
}
