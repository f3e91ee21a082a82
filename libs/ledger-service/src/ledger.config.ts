import { env, readConfig, type ConfigOf } from '@el/platform';

/** Every variable the ledger reads; validated at boot (see README "Configuration"). */
export const ledgerConfigSpec = {
  PORT: env.port({ default: 8080, description: 'HTTP port (in embedded mode every service is served here)' }),
  HOST: env.string({ default: '0.0.0.0', description: 'Interface to listen on' }),
  DATA_DIR: env.string({ default: './data', description: 'Directory for the embedded SQLite event store (events.db)' }),
  CATALOG_PATH: env.string({ default: './catalog/sample-catalog.yaml', description: 'Product catalog (YAML or JSON); published as a new catalog version when its content changes' }),
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info', description: 'Log level (logs are JSON lines on stdout)' }),
  SQLITE_SYNCHRONOUS: env.oneOf(['FULL', 'NORMAL'] as const, { default: 'FULL', description: 'FULL fsyncs every commit (durable on power loss); NORMAL may lose the last commits on power loss' }),
  SQLITE_WRITER: env.oneOf(['inline', 'worker'] as const, { default: 'inline', description: 'inline commits on the event loop; worker commits on a writer thread (frees the event loop during fsync, adds a thread hop per batch)' }),
  QUERY_WAIT_MS: env.int({ default: 2000, min: 0, max: 60_000, description: 'How long a query with minPosition waits for the read side to catch up before answering 503' }),
  EXPIRY_SWEEP_INTERVAL_MS: env.int({ default: 60_000, min: 0, description: 'How often entitlements past validity and grace are recorded as expired (0 disables)' }),
  INDEX_MAX_LAG_EVENTS: env.int({ default: 10_000, min: 1, description: '/health reports degraded when the ledger index is this many events behind' }),
};

export type LedgerConfig = ConfigOf<typeof ledgerConfigSpec>;

export function readLedgerConfig(source: NodeJS.ProcessEnv = process.env): LedgerConfig {
  return readConfig(ledgerConfigSpec, source);
}
