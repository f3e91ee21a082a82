import { eventStoreConfigSpec } from '@el/event-store';
import { baseServiceConfigSpec, env, readConfig, type ConfigOf } from '@el/platform';
import { messagingConfigSpec } from '@el/messaging';
import { readModelsConfigSpec } from '@el/read-models';

/** The ledger's own variables (see README "Configuration" for every service's). */
export const ledgerConfigSpec = {
  CATALOG_PATH: env.string({ default: './catalog/sample-catalog.yaml', description: 'Product catalog (YAML or JSON); published as a new catalog version when its content changes' }),
  EXPIRY_SWEEP_INTERVAL_MS: env.int({ default: 60_000, min: 0, description: 'How often entitlements past validity and grace are recorded as expired (0 disables)' }),
  ORDER_RECOVERY_INTERVAL_MS: env.int({ default: 30_000, min: 0, description: 'How often orders left received but not fulfilled (a crash mid-order) are finished (0: only at boot)' }),
};
export type LedgerConfig = ConfigOf<typeof ledgerConfigSpec>;

/** Everything the ledger service process reads. */
export const ledgerServiceConfigSpec = { ...baseServiceConfigSpec, ...eventStoreConfigSpec, ...readModelsConfigSpec, ...messagingConfigSpec, ...ledgerConfigSpec };
export type LedgerServiceConfig = ConfigOf<typeof ledgerServiceConfigSpec>;

export function readLedgerServiceConfig(source: NodeJS.ProcessEnv = process.env): LedgerServiceConfig {
  return readConfig(ledgerServiceConfigSpec, source);
}

export const LEDGER_CONFIG = Symbol('LEDGER_CONFIG');
