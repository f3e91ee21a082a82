import { join } from 'node:path';
import { eventStoreConfigSpec } from '@el/event-store';
import { baseServiceConfigSpec, consoleConfigSpec, env, readConfig, secretVariables, type ConfigOf } from '@el/platform';
import { identityConfigSpec } from '@el/identity';
import { messagingConfigSpec } from '@el/messaging';
import { readModelsConfigSpec } from '@el/read-models';

/** The ledger's own variables (see README "Configuration" for every service's). */
export const ledgerConfigSpec = {
  CATALOG_PATH: env.string({ default: './catalog/sample-catalog.yaml', description: 'Product catalog (YAML or JSON); published as a new catalog version when its content changes' }),
  EXPIRY_SWEEP_INTERVAL_MS: env.int({ default: 60_000, min: 0, description: 'How often entitlements past validity and grace are recorded as expired (0 disables)' }),
  KEYSTORE_DIR: env.string({ default: '', description: 'Directory of the Ed25519 keys that sign license tokens (keystore.json, mode 0600; default DATA_DIR/keys); share it between ledger processes' }),
  KEYSTORE_CREATE: env.bool({ default: true, description: 'Create a signing key when the keystore has none (set false in production so a missing secret stops the boot)' }),
  KEYSTORE_ALLOW_SHARED_READ: env.bool({ default: false, description: 'Accept a keystore.json that group or others may read (a secret volume mounted with mode 0644); by default such a file stops the boot' }),
  TOKEN_TTL_SECONDS: env.int({ default: 3600, min: 60, max: 30 * 86_400, description: 'Lifetime of a license token; the SDK refreshes before it ends' }),
  TOKEN_KEY_OVERLAP_DAYS: env.int({ default: 7, min: 0, description: 'How long a rotated key stays in the JWKS, so tokens it signed still verify' }),
  TOKEN_REFRESH_GRACE_SECONDS: env.int({ default: 7 * 86_400, min: 0, description: 'How long after expiry a token may still be exchanged for a fresh one (an application that was offline)' }),
  ORDER_RECOVERY_INTERVAL_MS: env.int({ default: 30_000, min: 0, description: 'How often orders left received but not fulfilled (a crash mid-order) are finished (0: only at boot)' }),
  APPROVAL_RECOVERY_INTERVAL_MS: env.int({ default: 30_000, min: 0, description: 'How often approved access requests not yet granted (a crash between approval and grant) are finished (0: only at boot)' }),
  ADMIN_API_KEY_FILE: env.string({ default: '', description: 'Where the first start writes the admin API key it creates (mode 0600; default DATA_DIR/admin-api-key); later starts never write it again' }),
  ...secretVariables('PAYMENT_WEBHOOK_SECRET', { description: 'Signing secret of the payment gateway webhook endpoint (Stripe "whsec_…"); unset: POST /v1/webhooks/payments answers 503 WEBHOOK.NOT_CONFIGURED' }),
  PAYMENT_WEBHOOK_TOLERANCE_SECONDS: env.int({ default: 300, min: 1, max: 3600, description: 'How far the signed timestamp of a webhook may be from the ledger clock; older (replayed) or newer deliveries are refused' }),
  PAYMENT_DUNNING_GRACE_HOURS: env.int({ default: 72, min: 0, max: 24 * 366, description: "How long after an invoice's payment failed the customer's entitlements are suspended if it is still unpaid (0: at once)" }),
  PAYMENT_DUNNING_SWEEP_INTERVAL_MS: env.int({ default: 60_000, min: 0, description: 'How often customers whose dunning grace has run out are suspended, and reinstatements a crash interrupted are finished (0 disables)' }),
  SNAPSHOT_EVERY: env.int({ default: 100, min: 0, description: "Snapshot an entitlement's stream once a command had to read this many events after its last snapshot (and a tenth as many as the users and devices it holds); a command then reads the snapshot and the events after it (0: no snapshots)" }),
  SNAPSHOT_PATH: env.string({ default: '', description: 'SQLite file of the stream snapshots, a cache that may be deleted at any time (default DATA_DIR/snapshots.db)' }),
  LEDGER_TEST_PAUSE_AFTER_APPROVAL: env.bool({ default: false, description: 'Test only: hold every approval after recording it, before the grant, and print "ledger paused after recording an approval", so a test can kill the process there' }),
};
export type LedgerConfig = ConfigOf<typeof ledgerConfigSpec>;

/** Everything the ledger service process reads. */
export const ledgerServiceConfigSpec = { ...baseServiceConfigSpec, ...identityConfigSpec, ...consoleConfigSpec, ...eventStoreConfigSpec, ...readModelsConfigSpec, ...messagingConfigSpec, ...ledgerConfigSpec };
export type LedgerServiceConfig = ConfigOf<typeof ledgerServiceConfigSpec>;

export function readLedgerServiceConfig(source: NodeJS.ProcessEnv = process.env): LedgerServiceConfig {
  return readConfig(ledgerServiceConfigSpec, source);
}

export const LEDGER_CONFIG = Symbol('LEDGER_CONFIG');

/** KEYSTORE_DIR, or `keys` under DATA_DIR. */
export function keystoreDir(config: { readonly KEYSTORE_DIR: string; readonly DATA_DIR?: string }): string {
  return config.KEYSTORE_DIR || join(config.DATA_DIR ?? './data', 'keys');
}
