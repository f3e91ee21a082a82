import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

const versionOf = (stat: Stats) => ({ mtimeMs: stat.mtimeMs, ino: stat.ino });

/** Every key is Ed25519, used with JWS algorithm EdDSA. */
const ALG = 'EdDSA';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

interface StoredKey {
  readonly kid: string;
  readonly createdAt: string;
  /** Set when a newer key took over signing; the key stays in the JWKS for the overlap window. */
  readonly retiredAt: string | null;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

interface KeystoreFile {
  readonly version: 1;
  readonly keys: StoredKey[];
}

export class KeystoreError extends Error {
  override readonly name = 'ConfigError';
}

export interface PublicJwks {
  readonly keys: readonly (JWK & { kid: string; alg: string; use: string })[];
}

export interface KeystoreOptions {
  readonly create: boolean;
  readonly overlapDays: number;
  readonly now: Date;
  readonly allowSharedRead?: boolean;
  /** The JWK `use` its public keys are published with (default `sig`): tells apart keys that sign different things. */
  readonly use?: string;
  /** Put before each new key id (e.g. `audit-`), so a key id says what the key signs. */
  readonly kidPrefix?: string;
  /** The configuration variable that names the directory, for errors (default KEYSTORE_DIR). */
  readonly variable?: string;
}

/**
 * Ed25519 signing keys in a directory (`keystore.json`, mode 0600). The newest
 * unretired key signs; retired keys stay published in the JWKS for
 * `overlapDays`, so tokens signed before a rotation still verify until they
 * expire. Several ledger processes may share the directory: a rotation made
 * by one (or by `npm run keys:rotate`) is picked up by the others.
 */
export class Keystore {
  private file: KeystoreFile;
  /** Which version of the file was read: a save writes a new file (new inode) and renames it over the old. */
  private seen = { mtimeMs: 0, ino: 0 };
  private signing: { kid: string; key: SigningKey } | null = null;

  private readonly overlapDays: number;
  private readonly allowSharedRead: boolean;
  private readonly use: string;
  private readonly kidPrefix: string;
  private readonly variable: string;

  private constructor(
    readonly dir: string,
    options: KeystoreOptions,
  ) {
    this.overlapDays = options.overlapDays;
    this.allowSharedRead = options.allowSharedRead ?? false;
    this.use = options.use ?? 'sig';
    this.kidPrefix = options.kidPrefix ?? '';
    this.variable = options.variable ?? 'KEYSTORE_DIR';
    this.file = { version: 1, keys: [] };
  }

  static async open(dir: string, options: KeystoreOptions): Promise<Keystore> {
    const ks = new Keystore(dir, options);
    if (existsSync(ks.path)) ks.load();
    if (!ks.file.keys.some((k) => k.retiredAt === null)) {
      if (!options.create) throw new KeystoreError(`${ks.variable}: no signing key in ${ks.path}; ${ks.variable === 'KEYSTORE_DIR' ? 'create one with `npm run keys:rotate` or ' : ''}allow ${ks.prefix}_CREATE=true`);
      await ks.rotate(options.now);
    }
    return ks;
  }

  /** KEYSTORE for KEYSTORE_DIR: the companion variables are <prefix>_CREATE and <prefix>_ALLOW_SHARED_READ. */
  private get prefix(): string {
    return this.variable.replace(/_DIR$/, '');
  }

  get path(): string {
    return join(this.dir, 'keystore.json');
  }

  private load(): void {
    // Private keys: a file others can read is refused, unless a secret volume mounts it so on purpose.
    const mode = statSync(this.path).mode & 0o777;
    if ((mode & 0o077) !== 0 && !this.allowSharedRead) {
      throw new KeystoreError(
        `${this.variable}: ${this.path} holds private signing keys but is readable by others (mode ${mode.toString(8).padStart(4, '0')}): \`chmod 600\` it, or set ${this.prefix}_ALLOW_SHARED_READ=true if a secret volume mounts it that way (Kubernetes: prefer defaultMode 0400)`,
      );
    }
    let parsed: KeystoreFile;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8')) as KeystoreFile;
    } catch (err) {
      throw new KeystoreError(`${this.variable}: ${this.path} is not a readable keystore: ${(err as Error).message}`);
    }
    if (parsed.version !== 1 || !Array.isArray(parsed.keys)) throw new KeystoreError(`${this.variable}: ${this.path} has an unknown format`);
    this.file = parsed;
    this.seen = versionOf(statSync(this.path));
    this.signing = null;
  }

  /**
   * Picks up a rotation made by another process. Runs before every signature
   * (a token signed after a rotation finished carries the new key), so it is
   * one stat call and nothing more unless the file changed.
   */
  private refresh(): void {
    const stat = statSync(this.path, { throwIfNoEntry: false });
    if (stat && (stat.mtimeMs !== this.seen.mtimeMs || stat.ino !== this.seen.ino)) this.load();
  }

  private save(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.file, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
    this.seen = versionOf(statSync(this.path));
    this.signing = null;
  }

  /** Creates a new signing key and retires the current one. Returns the new key id. */
  async rotate(now: Date): Promise<string> {
    this.refresh();
    const { privateKey, publicKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
    const kid = `${this.kidPrefix}${now.toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
    const at = now.toISOString();
    this.file = {
      version: 1,
      keys: [
        ...this.file.keys.map((k) => (k.retiredAt === null ? { ...k, retiredAt: at } : k)),
        { kid, createdAt: at, retiredAt: null, privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) },
      ],
    };
    this.save();
    return kid;
  }

  async signingKey(): Promise<{ kid: string; key: SigningKey }> {
    this.refresh();
    if (!this.signing) {
      const active = this.file.keys.filter((k) => k.retiredAt === null).at(-1);
      if (!active) throw new KeystoreError(`${this.variable}: no signing key in ${this.path}`);
      this.signing = { kid: active.kid, key: await importJWK(active.privateJwk, ALG) };
    }
    return this.signing;
  }

  /** Every key with its state, newest last (no key material). */
  list(now: Date): { kid: string; createdAt: string; retiredAt: string | null; state: 'signing' | 'published' | 'expired' }[] {
    this.refresh();
    const published = new Set(this.jwks(now).keys.map((k) => k.kid));
    return this.file.keys.map((k) => ({
      kid: k.kid,
      createdAt: k.createdAt,
      retiredAt: k.retiredAt,
      state: k.retiredAt === null ? 'signing' : published.has(k.kid) ? 'published' : 'expired',
    }));
  }

  /** Public keys: the signing key and keys retired less than `overlapDays` ago. */
  jwks(now: Date): PublicJwks {
    this.refresh();
    const cutoff = now.getTime() - this.overlapDays * 86_400_000;
    return {
      keys: this.file.keys
        .filter((k) => k.retiredAt === null || Date.parse(k.retiredAt) > cutoff)
        .map((k) => ({ kty: k.publicJwk.kty, crv: k.publicJwk.crv, x: k.publicJwk.x, kid: k.kid, alg: ALG, use: this.use })),
    };
  }
}
