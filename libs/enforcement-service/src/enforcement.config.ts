import { hostname } from 'node:os';
import { join } from 'node:path';
import { identityConfigSpec } from '@el/identity';
import { messagingConfigSpec } from '@el/messaging';
import { parsePartitionList } from '@el/contracts';
import { baseServiceConfigSpec, env, readConfig, type ConfigOf, type VariableSpec } from '@el/platform';

/** The enforcement service's own variables. */
export const enforcementConfigSpec = {
  CATALOG_PATH: env.string({ default: './catalog/sample-catalog.yaml', description: 'Product catalog (YAML or JSON); names the plan or add-on that would unlock a denial (upgrade hints)' }),
  ENFORCEMENT_DATA_DIR: env.string({ default: './data', description: 'Directory of the enforcement view snapshot (enforcement-view.json)' }),
  ENFORCEMENT_SNAPSHOT_INTERVAL_MS: env.int({ default: 10_000, min: 0, description: 'How often the view is written to its snapshot when it changed (0: only at shutdown)' }),
  ENFORCEMENT_GROUP: env.string({ default: 'enforcement', description: 'Kafka consumer group prefix; every instance reads every partition under <group>-<ENFORCEMENT_INSTANCE_ID>' }),
  ENFORCEMENT_INSTANCE_ID: env.string({ default: '', description: 'Names this instance in its consumer group (default: host name and process id)' }),
  VIEW_PARTITIONS: {
    description:
      'The partitions of ledger.entitlements.v1 this instance holds, e.g. 0-5 or 0,2,4 (default: every one). A shard: customers hash to partitions (Kafka\'s default partitioner on the customer id), and a check for a customer held elsewhere is answered 421 VIEW.NOT_HELD. BUS=kafka only',
    default: null,
    parse: (raw: string) => parsePartitionList(raw),
  } as VariableSpec<readonly number[] | null>,
  CHECK_MAX_WAIT_MS: env.int({ default: 500, min: 0, max: 30_000, description: 'Longest a check with minPosition waits for the view to catch up before answering stale: true' }),
  RATE_LIMIT_CHECKS_PER_SECOND: env.int({ default: 0, min: 0, description: 'Check requests (a batch counts as one) each principal may make per second, in bursts of the same size; above it 429 with Retry-After (0: unlimited)' }),
  CHECK_MAX_LAG_SECONDS: env.int({ default: 30, min: 1, description: '/health reports the view degraded when its newest change arrived more than this late' }),
  DECISION_LOG_ALLOW_SAMPLE: env.number({
    default: 0.01,
    min: 0,
    max: 1,
    description: 'Share of allowed decisions written to the decision log (enforcement.decisions.v1), from 0 (none) to 1 (every one); every denial is always written',
  }),
  DECISION_LOG_BUFFER: env.int({
    default: 10_000,
    min: 1,
    max: 1_000_000,
    description: 'Decision records held for publishing in the background; when the bus cannot take them and this is full, new records are dropped (enforcement_decision_log_dropped_total), checks never wait',
  }),
};
export type EnforcementConfig = ConfigOf<typeof enforcementConfigSpec>;

/** Everything the enforcement service process reads. */
export const enforcementServiceConfigSpec = { ...baseServiceConfigSpec, ...identityConfigSpec, ...messagingConfigSpec, ...enforcementConfigSpec };
export type EnforcementServiceConfig = ConfigOf<typeof enforcementServiceConfigSpec>;

export function readEnforcementServiceConfig(source: NodeJS.ProcessEnv = process.env): EnforcementServiceConfig {
  return readConfig(enforcementServiceConfigSpec, source);
}

export const ENFORCEMENT_CONFIG = Symbol('ENFORCEMENT_CONFIG');

export function snapshotPath(config: EnforcementConfig): string {
  return join(config.ENFORCEMENT_DATA_DIR, 'enforcement-view.json');
}

export function consumerGroup(config: EnforcementConfig): string {
  return `${config.ENFORCEMENT_GROUP}-${config.ENFORCEMENT_INSTANCE_ID || `${hostname()}-${process.pid}`}`;
}
