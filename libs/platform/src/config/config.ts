import { redactCredentials } from './redact';

/**
 * Typed configuration from environment variables, validated at boot. Every
 * problem is reported at once, each naming its variable:
 *
 *   Invalid configuration:
 *     - PORT: must be an integer from 1 to 65535 (got "80a")
 *     - EVENT_STORE: must be one of sqlite, esdb (got "mysql")
 */
export interface VariableSpec<T> {
  readonly description: string;
  /** Shown in docs and `--help`; the value used when the variable is unset. */
  readonly default?: T;
  readonly required?: boolean;
  /** A credential: its value is never shown, not even in the message about a bad value. */
  readonly secret?: boolean;
  parse(raw: string): T;
}

type Specs = Record<string, VariableSpec<unknown>>;
export type ConfigOf<S extends Specs> = { readonly [K in keyof S]: S[K] extends VariableSpec<infer T> ? T : never };

export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    // A message for a person, naming the variables: frames would only bury it (Nest logs a provider's boot error with its stack).
    this.stack = `${this.name}: ${this.message}`;
  }
}

export function readConfig<S extends Specs>(specs: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: { variable: string; message: string }[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (spec.default !== undefined) out[name] = spec.default;
      else if (spec.required) problems.push({ variable: name, message: `is required (${spec.description})` });
      else out[name] = undefined;
      continue;
    }
    try {
      out[name] = spec.parse(raw.trim());
    } catch (err) {
      // The value is echoed to help fix it — minus credentials (a URL's password, a secret variable).
      problems.push({ variable: name, message: `${(err as Error).message} (got ${spec.secret ? 'a value, not shown' : `"${redactCredentials(raw)}"`})` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** A reader for a combined spec (several libraries' variables). */
export function configReader<S extends Specs>(specs: S): (env?: NodeJS.ProcessEnv) => ConfigOf<S> {
  return (env = process.env) => readConfig(specs, env);
}

type Opts<T> = { description: string; default?: T; required?: boolean; secret?: boolean };

export const env = {
  string: (o: Opts<string>): VariableSpec<string> => ({ ...o, parse: (raw) => raw }),
  int: (o: Opts<number> & { min?: number; max?: number }): VariableSpec<number> => ({
    ...o,
    parse(raw) {
      const n = Number(raw);
      const min = o.min ?? Number.MIN_SAFE_INTEGER;
      const max = o.max ?? Number.MAX_SAFE_INTEGER;
      if (!/^-?\d+$/.test(raw) || n < min || n > max) {
        throw new Error(`must be an integer${o.min !== undefined || o.max !== undefined ? ` from ${min} to ${max}` : ''}`);
      }
      return n;
    },
  }),
  /** A decimal number (`0.25`, `1e-3`), within [min, max]. */
  number: (o: Opts<number> & { min?: number; max?: number }): VariableSpec<number> => ({
    ...o,
    parse(raw) {
      const n = Number(raw);
      const min = o.min ?? -Number.MAX_VALUE;
      const max = o.max ?? Number.MAX_VALUE;
      if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw) || !Number.isFinite(n) || n < min || n > max) {
        throw new Error(`must be a number${o.min !== undefined || o.max !== undefined ? ` from ${min} to ${max}` : ''}`);
      }
      return n;
    },
  }),
  port: (o: Opts<number>): VariableSpec<number> => env.int({ ...o, min: 1, max: 65535 }),
  bool: (o: Opts<boolean>): VariableSpec<boolean> => ({
    ...o,
    parse(raw) {
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error('must be true or false');
    },
  }),
  oneOf: <T extends string>(values: readonly T[], o: Opts<T>): VariableSpec<T> => ({
    ...o,
    parse(raw) {
      if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}`);
      return raw as T;
    },
  }),
  url: (o: Opts<string> & { protocols?: readonly string[] }): VariableSpec<string> => ({
    ...o,
    parse(raw) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new Error('must be a URL');
      }
      if (o.protocols && !o.protocols.includes(u.protocol.replace(/:$/, ''))) {
        throw new Error(`must be a ${o.protocols.join(' or ')} URL`);
      }
      return raw;
    },
  }),
  list: (o: Opts<readonly string[]>): VariableSpec<readonly string[]> => ({
    ...o,
    parse(raw) {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) throw new Error('must be a comma-separated list');
      return items;
    },
  }),
};

/** Every HTTP service reads these. */
export const baseServiceConfigSpec = {
  PORT: env.port({ default: 8080, description: 'HTTP port (in embedded mode every service is served here)' }),
  HOST: env.string({ default: '0.0.0.0', description: 'Interface to listen on' }),
  METRICS_PUBLIC: env.bool({ default: true, description: '/metrics answers without a credential (for scrapers on the private network); false: it needs a credential with metrics:read' }),
  RATE_LIMIT_WRITES_PER_SECOND: env.int({ default: 200, min: 0, description: 'Writes (POST, DELETE) each principal may make per second, in bursts of RATE_LIMIT_WRITES_BURST; above it 429 with Retry-After (0: unlimited)' }),
  RATE_LIMIT_WRITES_BURST: env.int({ default: 400, min: 1, description: 'Writes a principal may make at once before RATE_LIMIT_WRITES_PER_SECOND applies' }),
  CORS_ORIGINS: {
    ...env.list({ description: 'Origins allowed to call the API from a browser (CORS), comma-separated, e.g. https://console.example.com; unset: CORS is off (no Access-Control headers)' }),
    parse(raw: string): readonly string[] {
      const origins = env.list({ description: '' }).parse(raw);
      // Credentials travel in headers: a wildcard would let any site's scripts call with a user's key.
      const bad = origins.filter((o) => !/^https?:\/\/[^/\s*]+$/.test(o));
      if (bad.length > 0) throw new Error(`must list origins such as https://console.example.com (scheme and host, no path, no wildcard); not ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
      return origins;
    },
  },
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info', description: 'Log level (logs are JSON lines on stdout)' }),
};
