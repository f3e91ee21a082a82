import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, type ConfigProblem, type VariableSpec } from './config';

/**
 * A credential read from the configuration. It prints as `***` however it is
 * printed — template string, JSON (a config object in a log line or a health
 * report), util.inspect — so handing a config object around cannot leak it;
 * only `reveal()` gives the value, at the one place that hands it to a client.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '***';
  }
  toJSON(): string {
    return '***';
  }
  [inspect.custom](): string {
    return 'Secret(***)';
  }
}

/** Every occurrence of the secrets' values in `text` replaced by `***` (for error messages from clients). */
export function withoutSecrets(text: string, secrets: readonly (Secret | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    const value = s?.reveal();
    if (value) out = out.split(value).join('***');
  }
  return out;
}

type SecretSpecs<N extends string> = { readonly [K in N]: VariableSpec<string> } & { readonly [K in `${N}_FILE`]: VariableSpec<string> };

/**
 * The two variables of one secret: `NAME`, the value itself, and `NAME_FILE`,
 * a file holding it — the way Kubernetes Secrets and Docker secrets reach a
 * container (mounted files under /run/secrets or /etc/...), so the value never
 * sits in the environment, `docker inspect` or `kubectl describe`. At most one
 * of the two may be set; `secretFrom` reads whichever is.
 */
export function secretVariables<N extends string>(name: N, o: { description: string }): SecretSpecs<N> {
  return {
    [name]: { description: `${o.description} (prefer ${name}_FILE)`, secret: true, parse: (raw: string) => raw },
    [`${name}_FILE`]: { description: `File holding ${name} (a mounted Kubernetes/Docker secret; one trailing newline is ignored)`, parse: (raw: string) => raw },
  } as unknown as SecretSpecs<N>;
}

export interface ResolvedSecret {
  readonly value: Secret;
  /** The variable it came from (NAME or NAME_FILE), for error messages. */
  readonly variable: string;
}

/**
 * The secret `name` from a config read with `secretVariables(name)`: its
 * value, or the content of `NAME_FILE`; undefined when neither is set.
 * Fails naming the variable when both are set, or the file cannot be read or is empty.
 */
export function secretFrom(config: Readonly<Record<string, unknown>>, name: string): ResolvedSecret | undefined {
  const direct = config[name] as string | undefined;
  const file = config[`${name}_FILE`] as string | undefined;
  if (direct && file) throw new ConfigError([{ variable: `${name}_FILE`, message: `cannot be used together with ${name}; set one of them` }]);
  if (direct) return { value: new Secret(direct), variable: name };
  if (!file) return undefined;
  const variable = `${name}_FILE`;
  const text = readConfigFile(variable, file).toString('utf8').replace(/\r?\n$/, '');
  if (text.length === 0) throw new ConfigError([{ variable, message: `${resolve(file)} is empty` }]);
  return { value: new Secret(text), variable };
}

/** The bytes of the file a variable names; a ConfigError naming the variable (and the reason, e.g. ENOENT) when it cannot be read. */
export function readConfigFile(variable: string, path: string): Buffer {
  const full = resolve(path);
  try {
    return readFileSync(full);
  } catch (err) {
    throw new ConfigError([{ variable, message: `cannot read ${full} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }]);
  }
}

/** A PEM file of one or more X.509 certificates (a CA bundle, a client certificate), checked at boot. */
export function readCertificateFile(variable: string, path: string): string {
  const pem = readConfigFile(variable, path).toString('utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError([{ variable, message: `${resolve(path)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` }]);
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new ConfigError([{ variable, message: `certificate ${i + 1} in ${resolve(path)} is not valid: ${(err as Error).message}` }]);
    }
  }
  return pem;
}

/** A PEM private key file (unencrypted), checked at boot; a Secret, as it is one. */
export function readPrivateKeyFile(variable: string, path: string): Secret {
  const pem = readConfigFile(variable, path).toString('utf8');
  try {
    createPrivateKey(pem);
  } catch (err) {
    throw new ConfigError([{ variable, message: `${resolve(path)} is not an unencrypted PEM private key (${(err as Error).message})` }]);
  }
  return new Secret(pem);
}

/**
 * Runs checks that each may throw a ConfigError and collects their problems,
 * so one boot reports every bad variable at once: `problems.check(() => …)`
 * returns the check's value (undefined when it failed), `problems.throwIfAny()` ends.
 */
export class ConfigProblems {
  private readonly list: ConfigProblem[] = [];
  add(variable: string, message: string): void {
    this.list.push({ variable, message });
  }
  check<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.list.push(...err.problems);
      return undefined;
    }
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new ConfigError(this.list);
  }
}
