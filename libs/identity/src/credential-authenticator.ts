import { Authenticator, bearerOf, invalidCredential, missingCredential, trimOldest, type Principal } from '@el/platform';
import type { ApiKeyRecord } from '@el/domain';
import { API_KEY_PREFIX, keyIdOf, matches } from './api-key-secret';
import type { ApiKeyDirectory } from './api-key-directory';
import type { OidcVerifier } from './oidc';

const CACHE_LIMIT = 10_000;

/**
 * API keys and (when configured) OIDC access tokens. A verified credential is
 * cached by its exact bytes, so a repeated request costs one map lookup and no
 * hash: an API key's entry is valid while the directory still holds the same
 * record (a revocation replaces it), a token's until it expires.
 */
export class CredentialAuthenticator extends Authenticator {
  /** By the exact `Bearer <key>` header (the hot path: no parsing). Only that canonical form is kept, so header variants cannot grow it. */
  private readonly byHeader = new Map<string, { record: ApiKeyRecord; principal: Principal }>();
  /** By the key itself. */
  private readonly keys = new Map<string, { record: ApiKeyRecord; principal: Principal }>();
  private readonly tokens = new Map<string, { principal: Principal; expiresAtMs: number }>();
  private lastMissRefresh = 0;

  constructor(
    private readonly directory: ApiKeyDirectory,
    private readonly oidc: OidcVerifier | null,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  authenticate(authorization: string | undefined): Principal | Promise<Principal> {
    // The hot path: the exact header seen before, no parsing (`Bearer elk_…` is stored under the whole header).
    if (authorization !== undefined) {
      const seen = this.byHeader.get(authorization);
      if (seen && this.directory.get(seen.record.keyId) === seen.record) return seen.principal;
    }
    const credential = bearerOf(authorization);
    if (credential === null) throw missingCredential();
    if (credential.startsWith(API_KEY_PREFIX)) {
      const hit = this.keys.get(credential);
      if (hit && this.directory.get(hit.record.keyId) === hit.record) return hit.principal;
      return this.apiKey(credential);
    }
    const token = this.tokens.get(credential);
    if (token && token.expiresAtMs > this.now()) return token.principal;
    if (!this.oidc) throw invalidCredential('not an API key (elk_…), and this service accepts no identity-provider tokens (OIDC_ISSUER is not set)');
    return this.jwt(credential, this.oidc);
  }

  private async apiKey(key: string): Promise<Principal> {
    const header = `Bearer ${key}`;
    this.keys.delete(key);
    this.byHeader.delete(header);
    const keyId = keyIdOf(key);
    if (keyId === null) throw invalidCredential('malformed API key');
    let record = this.directory.get(keyId);
    // A key created a moment ago on another process: reread the log, at most once a second for unknown keys.
    if (!record && this.now() - this.lastMissRefresh > 1000) {
      this.lastMissRefresh = this.now();
      await this.directory.refresh();
      record = this.directory.get(keyId);
    }
    if (!record || !matches(key, record.secretSha256)) throw invalidCredential('unknown API key');
    if (record.revokedAt !== null) throw invalidCredential(`API key ${keyId} was revoked at ${record.revokedAt}`);
    const principal: Principal = { id: `key:${keyId}`, kind: 'api-key', role: record.role, name: record.name, customers: record.customers };
    remember(this.keys, key, { record, principal });
    remember(this.byHeader, header, { record, principal });
    return principal;
  }

  private async jwt(token: string, oidc: OidcVerifier): Promise<Principal> {
    this.tokens.delete(token);
    const verified = await oidc.verify(token);
    remember(this.tokens, token, verified);
    return verified.principal;
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  trimOldest(map, CACHE_LIMIT);
}
