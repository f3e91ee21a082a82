import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JSONWebKeySet } from 'jose';
import { randomUUID } from 'node:crypto';
import { partitionOf, type CheckRequestV1, type CheckResponseV1, type UsageEventV1 } from '@el/contracts';
import { check, type Catalog, type CheckRequest, type Decision, type MeterSpec, type UsageLookup } from '@el/domain';
import { DEFAULT_LEEWAY_SECONDS, LicenseKeySet, LicenseTokenError, verifyLicenseToken, type VerifiedLicense } from './verify';

export interface EntitlementClientOptions {
  /** The ledger: JWKS (`/.well-known/jwks.json`), token issue and refresh. Omit to run on `token` + `jwks` alone (fully offline). */
  readonly ledgerUrl?: string;
  /** The enforcement API for checks the token cannot answer; default `ledgerUrl` (the embedded server serves both). */
  readonly enforcementUrl?: string;
  /**
   * A sharded enforcement service (each instance started with VIEW_PARTITIONS): a check goes to the
   * instance holding its customer's partition. Used instead of `enforcementUrl`; see `EnforcementShards`.
   */
  readonly enforcementShards?: EnforcementShards;
  /** A token your backend obtained (`POST /v1/tokens`). */
  readonly token?: string;
  /** Or let the client ask the ledger for one (needs `headers` that the ledger accepts). */
  readonly issue?: { readonly customerId: string; readonly userId?: string; readonly deviceId?: string };
  /** Customer for API checks before any token is held; default the token's or `issue`'s. */
  readonly customerId?: string;
  /** Sent with every request: at least `authorization: Bearer <a service API key>` for issue, refresh and API checks. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Pinned public keys: used instead of fetching the JWKS. */
  readonly jwks?: JSONWebKeySet;
  /**
   * Pinned key ids: RFC 7638 thumbprints (SHA-256, base64url) of the ledger's
   * signing keys, as `npm run keys:list` prints them. A key read from the
   * cache directory is used only when pinned here (a file an attacker can
   * write is never a source of trust); when given, keys fetched from the
   * ledger must be pinned too.
   */
  readonly trustedKeys?: readonly string[];
  /**
   * Directory where the last good token (and the JWKS) are kept. The token is
   * verified like any other; the cached JWKS counts only for pinned keys
   * (`trustedKeys`), so starting offline needs pins or `jwks`.
   */
  readonly cacheDir?: string;
  /** Clock skew tolerated on exp/nbf (0–300 s, default 30). */
  readonly leewaySeconds?: number;
  /** Refresh this long before the token expires; default a fifth of its lifetime, at least 30 s. */
  readonly refreshAheadSeconds?: number;
  /** Timeout of each HTTP call (default 2000 ms). */
  readonly requestTimeoutMs?: number;
  /** The catalog, for upgrade hints in local decisions. */
  readonly catalog?: Catalog;
  /** Usage so far per entitlement and feature, for caps in local decisions (default: none used). */
  readonly usage?: UsageLookup;
  /** Epoch milliseconds; default Date.now. */
  readonly now?: () => number;
  /** Where `reportUsage` sends usage (`POST /v1/usage`); default `ledgerUrl` (the embedded server meters too). */
  readonly meteringUrl?: string;
  /** The CloudEvents `source` of reported usage (with the generated ids, the key of each event's one effect); default `urn:sdk:<customerId>`. */
  readonly usageSource?: string;
  /** How often reported usage is sent (default 1000 ms; a batch of 1000 goes at once). */
  readonly usageFlushMs?: number;
  readonly onEvent?: (event: ClientEvent) => void;
}

export type ClientEvent =
  | { readonly type: 'token'; readonly position: number; readonly kid: string; readonly expiresAt: string; readonly source: 'option' | 'cache' | 'issue' | 'refresh' }
  | { readonly type: 'error'; readonly stage: 'jwks' | 'token' | 'refresh' | 'issue' | 'check' | 'cache' | 'usage'; readonly error: Error };

/** What a check may say besides the feature: who, where, how much, when. */
export interface CheckOptions {
  readonly productId?: string;
  readonly userId?: string;
  readonly deviceId?: string;
  readonly region?: string;
  readonly quantity?: number;
  /** The instant the check is about (epoch ms); default now. */
  readonly atMs?: number;
}

export interface ClientDecision extends Decision {
  /** `token`: decided locally from the license token; `api`: by the enforcement service; `unavailable`: neither could answer (fails closed). */
  readonly source: 'token' | 'api' | 'unavailable';
  /** Ledger position the decision reflects. */
  readonly position: number | null;
  /** `api`: the catalog version the enforcement service decided with (null before it knew one); local decisions use the `catalog` option and say null. */
  readonly catalogVersion: number | null;
  readonly stale: boolean;
}

/** The enforcement API refused the request itself (a 4xx): the check is malformed, retrying will not help. */
export class EnforcementApiError extends Error {
  override readonly name = 'EnforcementApiError';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`enforcement API answered ${status}: ${JSON.stringify(body)}`);
  }
}

interface CacheFile {
  readonly version: 1;
  readonly token: string | null;
  readonly jwks: JSONWebKeySet | null;
}

const MIN_REFRESH_AHEAD_MS = 30_000;
const MAX_BACKOFF_MS = 60_000;
const JWKS_REFETCH_INTERVAL_MS = 5_000;

/**
 * Entitlement checks inside an application. Holds a license token verified
 * offline against the ledger's JWKS and decides locally with the same
 * decision function as the enforcement service (`checkLocal`: synchronous,
 * no I/O). Refreshes the token in the background before it expires, so
 * upgrades and downgrades arrive without the end user doing anything. A check
 * the token cannot answer (no valid token, or a user or device the token is
 * not bound to) goes to the enforcement API (`check`).
 */
export class EntitlementClient {
  private keys: LicenseKeySet;
  private current: VerifiedLicense | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private lastJwksFetch = 0;
  private closed = false;
  private readonly now: () => number;
  private readonly leewayMs: number;
  private readonly ctx: { catalog?: Catalog; usage?: UsageLookup };
  private refreshing: Promise<VerifiedLicense | null> | null = null;
  private readonly usageQueue: UsageEventV1[] = [];
  /** Usage this client reported, per feature, counted as the feature's meter counts: the local estimate checks add. */
  private readonly reported = new Map<string, { value: number; readonly values: Set<string> }>();
  private usageTimer: NodeJS.Timeout | null = null;
  private usageFailures = 0;
  private flushing: Promise<void> | null = null;

  private constructor(private readonly options: EntitlementClientOptions) {
    if (options.enforcementShards) shardUrlFor('', options.enforcementShards); // says what is wrong with the map, at once
    this.now = options.now ?? Date.now;
    this.leewayMs = (options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS) * 1000;
    this.keys = new LicenseKeySet(options.jwks ?? { keys: [] });
    // Caps are checked against the usage the application supplies plus what this client reported (the local estimate).
    const given = options.usage;
    const usage: UsageLookup = (entitlementId, feature, period, atMs) => {
      const known = given?.(entitlementId, feature, period, atMs) ?? 0;
      const mine = this.reported.get(feature)?.value ?? 0;
      // A maximum is not a sum: the estimate is the higher of the two.
      return this.meterOf(feature)?.aggregation === 'max' ? Math.max(known, mine) : known + mine;
    };
    this.ctx = { ...(options.catalog ? { catalog: options.catalog } : {}), usage };
  }

  /**
   * Loads the cached or given token, fetches the JWKS and a fresh token when
   * the ledger is reachable, and starts the background refresh. Never fails
   * for an unreachable ledger: the client then works from its cache, falls
   * back to the API, or fails closed — see `status()`.
   */
  static async start(options: EntitlementClientOptions): Promise<EntitlementClient> {
    if (!options.ledgerUrl && !options.jwks) throw new TypeError('EntitlementClient: give ledgerUrl (to fetch the JWKS) or pinned jwks');
    if (!options.token && !options.issue && !options.cacheDir && !options.customerId) {
      throw new TypeError('EntitlementClient: give a token, issue: {customerId}, a cacheDir holding a token, or a customerId for API checks');
    }
    const client = new EntitlementClient(options);
    await client.boot();
    return client;
  }

  /** The license in use, or null. */
  get license(): VerifiedLicense | null {
    return this.current;
  }

  status(): { token: 'valid' | 'expired' | 'none'; position: number | null; expiresAt: string | null; kid: string | null; customerId: string | null } {
    const lic = this.current;
    return {
      token: !lic ? 'none' : this.usable(lic, this.now()) ? 'valid' : 'expired',
      position: lic?.position ?? null,
      expiresAt: lic ? new Date(lic.expiresAtMs).toISOString() : null,
      kid: lic?.kid ?? null,
      customerId: lic?.customerId ?? this.customerId() ?? null,
    };
  }

  /**
   * Decides from the token alone: synchronous, no I/O. Returns null when the
   * token cannot answer — none held, expired (beyond the leeway), or the check
   * names a user or device the token is not bound to.
   */
  checkLocal(feature: string, options: CheckOptions = {}): Decision | null {
    const lic = this.current;
    if (lic === null) return null;
    const at = options.atMs ?? this.now();
    if (!this.usable(lic, at)) return null;
    if (options.userId !== undefined && options.userId !== lic.userId) return null;
    if (options.deviceId !== undefined && options.deviceId !== lic.deviceId) return null;
    // One shape for every request (absent fields undefined): the decision function stays monomorphic.
    const request = {
      customerId: lic.customerId,
      feature,
      productId: options.productId,
      userId: options.userId,
      deviceId: options.deviceId,
      region: options.region,
      quantity: options.quantity,
      atMs: at,
    } as CheckRequest;
    return check(lic.subjects, request, this.ctx);
  }

  /** Decides locally when the token can, otherwise asks the enforcement API; fails closed when neither can answer. */
  async check(feature: string, options: CheckOptions = {}): Promise<ClientDecision> {
    const local = this.checkLocal(feature, options);
    if (local) return { ...local, source: 'token', position: this.current!.position, catalogVersion: null, stale: false };
    return this.checkRemote(feature, options);
  }

  /** Asks the enforcement API, waiting until its view is at least as recent as the token. */
  async checkRemote(feature: string, options: CheckOptions = {}): Promise<ClientDecision> {
    const customerId = this.current?.customerId ?? this.customerId();
    const shards = this.options.enforcementShards;
    const base = shards && customerId ? shardUrlFor(customerId, shards) : (this.options.enforcementUrl ?? this.options.ledgerUrl);
    if (!customerId || !base) return this.unavailable(feature, !base ? 'no enforcement API is configured' : 'no customer is known yet');
    const { atMs, ...rest } = options;
    const body: CheckRequestV1 = {
      ...rest,
      customerId,
      feature,
      ...(atMs !== undefined ? { at: new Date(atMs).toISOString() } : {}),
      ...(this.current ? { minPosition: this.current.position } : {}),
    };
    let res: { status: number; body: unknown };
    try {
      res = await this.request('POST', base, '/v1/check', body);
    } catch (err) {
      this.emit({ type: 'error', stage: 'check', error: err as Error });
      return this.unavailable(feature, `the enforcement API is unreachable: ${(err as Error).message}`);
    }
    if (res.status >= 400 && res.status < 500) throw new EnforcementApiError(res.status, res.body);
    if (res.status !== 200) return this.unavailable(feature, `the enforcement API answered ${res.status}`);
    const r = res.body as CheckResponseV1;
    return { ...r, source: 'api' };
  }

  /**
   * Exchanges the token for a fresh one now (the background refresh does this
   * before expiry). The token comes from a request made after this call, so it
   * reflects every write acknowledged before it.
   */
  refresh(): Promise<VerifiedLicense | null> {
    const previous = this.refreshing ?? Promise.resolve(null);
    const next = previous.then(() => this.renew());
    this.refreshing = next;
    void next.finally(() => {
      if (this.refreshing === next) this.refreshing = null;
    });
    return next;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.usageTimer) clearTimeout(this.usageTimer);
    this.usageTimer = null;
  }

  /**
   * Reports usage of a metered feature: queued, and sent in batches in the
   * background (`flushUsage` sends at once). Each report gets a generated id
   * that stays with it through every retry, so the metering service counts it
   * exactly once however often it is sent. The local decision counts it at
   * once (`checkLocal` sees the client's own usage).
   */
  reportUsage(feature: string, quantity = 1, options: { readonly userId?: string; readonly deviceId?: string; readonly entitlementId?: string; readonly atMs?: number } = {}): void {
    const customerId = this.current?.customerId ?? this.options.issue?.customerId ?? this.options.customerId;
    if (!customerId) throw new TypeError('reportUsage: no customer yet (give issue: {customerId}, customerId, or a token)');
    if (!(quantity >= 0) || !Number.isFinite(quantity)) throw new RangeError('reportUsage: quantity must be a finite number >= 0');
    this.usageQueue.push({
      specversion: '1.0',
      id: randomUUID(),
      source: this.options.usageSource ?? `urn:sdk:${customerId}`,
      type: 'io.ledger.usage.v1',
      subject: customerId,
      time: new Date(options.atMs ?? this.now()).toISOString(),
      data: { feature, quantity, ...(options.entitlementId ? { entitlementId: options.entitlementId } : {}), ...(options.userId ? { userId: options.userId } : {}), ...(options.deviceId ? { deviceId: options.deviceId } : {}) },
    });
    this.countLocally(feature, quantity, options);
    if (this.usageQueue.length >= 1000) void this.flushUsage();
    else if (!this.usageTimer && !this.closed) {
      this.usageTimer = setTimeout(() => {
        this.usageTimer = null;
        void this.flushUsage();
      }, this.options.usageFlushMs ?? 1000);
      this.usageTimer.unref();
    }
  }

  /** The feature's meter in the current token's grants (how it counts: sum, count, max, distinct values). */
  private meterOf(feature: string): MeterSpec | undefined {
    return this.current?.subjects.find((e) => e.features[feature]?.meter)?.features[feature]?.meter;
  }

  private countLocally(feature: string, quantity: number, options: { readonly userId?: string; readonly deviceId?: string }): void {
    let r = this.reported.get(feature);
    if (!r) this.reported.set(feature, (r = { value: 0, values: new Set() }));
    const meter = this.meterOf(feature);
    switch (meter?.aggregation ?? 'sum') {
      case 'sum':
        r.value += quantity;
        break;
      case 'count':
        r.value += 1;
        break;
      case 'max':
        r.value = Math.max(r.value, quantity);
        break;
      case 'unique_count': {
        // Values new to this client; the server may already count some of them, so the estimate errs on the cautious side.
        const v = meter?.of === 'deviceId' ? options.deviceId : options.userId;
        if (v !== undefined && !r.values.has(v)) {
          r.values.add(v);
          r.value += 1;
        }
        break;
      }
    }
  }

  /** Sends the queued usage now; on failure it stays queued (same ids) and is retried with backoff. Resolves with how many are still queued. */
  async flushUsage(): Promise<number> {
    this.flushing ??= this.sendUsage().finally(() => (this.flushing = null));
    await this.flushing;
    return this.usageQueue.length;
  }

  private async sendUsage(): Promise<void> {
    const base = this.options.meteringUrl ?? this.options.ledgerUrl;
    while (this.usageQueue.length > 0 && base) {
      const batch = this.usageQueue.slice(0, 1000);
      try {
        const res = await this.request('POST', base, '/v1/usage', { events: batch });
        if (res.status >= 500 || res.status === 429) throw new Error(`metering answered ${res.status}`);
        // Sent: accepted, duplicate (sent before) or refused for good; either way it leaves the queue.
        this.usageQueue.splice(0, batch.length);
        this.usageFailures = 0;
        const refused = res.status === 200 ? ((res.body as { results?: { status: string; code?: string; id: string | null }[] }).results ?? []).filter((r) => r.status === 'rejected') : batch.map((e) => ({ id: e.id, code: `HTTP_${res.status}` }));
        if (refused.length > 0) this.emit({ type: 'error', stage: 'usage', error: new Error(`metering refused ${refused.length} usage event(s): ${refused.slice(0, 5).map((r) => `${r.id} ${r.code}`).join(', ')}`) });
      } catch (err) {
        // Not sent (or no answer): kept with their ids, retried; the metering service counts each id once.
        this.usageFailures++;
        this.emit({ type: 'error', stage: 'usage', error: err as Error });
        if (!this.closed) {
          const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.usageFailures - 1, 7));
          this.usageTimer ??= setTimeout(() => {
            this.usageTimer = null;
            void this.flushUsage();
          }, delay);
          this.usageTimer.unref();
        }
        return;
      }
    }
  }

  // --- internals -----------------------------------------------------------

  private customerId(): string | undefined {
    return this.options.customerId ?? this.options.issue?.customerId;
  }

  private usable(lic: VerifiedLicense, at: number): boolean {
    return at < lic.expiresAtMs + this.leewayMs && at >= lic.notBeforeMs - this.leewayMs;
  }

  private unavailable(feature: string, why: string): ClientDecision {
    return {
      allowed: false,
      code: 'NO_ENTITLEMENT',
      entitlementId: null,
      remaining: null,
      expiresAt: null,
      upgradeHint: null,
      reason: `cannot decide ${feature}: ${why}`,
      source: 'unavailable',
      position: null,
      catalogVersion: null,
      stale: true,
    };
  }

  private emit(event: ClientEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      /* a listener's failure must not break checks */
    }
  }

  private async boot(): Promise<void> {
    const cached = this.readCache();
    if (cached?.jwks && !this.options.jwks) this.keys = new LicenseKeySet(await this.pinned(cached.jwks, 'the cache'));
    if (this.options.ledgerUrl && !this.options.jwks) await this.fetchJwks().catch((err) => this.emit({ type: 'error', stage: 'jwks', error: err as Error }));
    for (const [token, source] of [
      [this.options.token, 'option'],
      [cached?.token, 'cache'],
    ] as const) {
      if (!token) continue;
      try {
        await this.install(token, source);
        break;
      } catch (err) {
        this.emit({ type: 'error', stage: 'token', error: err as Error });
      }
    }
    // A token about to expire (or none at all) is renewed before the first check.
    if (this.options.ledgerUrl && (!this.current || this.current.expiresAtMs - this.now() <= this.refreshAheadMs(this.current))) await this.refresh();
    this.schedule();
  }

  private refreshAheadMs(lic: VerifiedLicense): number {
    if (this.options.refreshAheadSeconds !== undefined) return this.options.refreshAheadSeconds * 1000;
    const lifetime = lic.expiresAtMs - lic.issuedAtMs;
    return Math.min(lifetime / 2, Math.max(MIN_REFRESH_AHEAD_MS, lifetime / 5));
  }

  private schedule(delayMs?: number): void {
    if (this.closed || !this.options.ledgerUrl) return;
    if (this.timer) clearTimeout(this.timer);
    const lic = this.current;
    const delay = delayMs ?? (lic ? Math.max(1000, lic.expiresAtMs - this.refreshAheadMs(lic) - this.now()) : 1000);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, Math.min(delay, 2 ** 31 - 1));
    this.timer.unref();
  }

  /** Refresh (or issue) a token; on failure keep the current one and retry with backoff. */
  private async renew(): Promise<VerifiedLicense | null> {
    try {
      let token: string | null = null;
      if (this.current) {
        const res = await this.request('POST', this.options.ledgerUrl!, '/v1/tokens/refresh', { token: this.current.token });
        if (res.status === 201) token = (res.body as { token: string }).token;
        else if (res.status !== 401 || !this.options.issue) throw new Error(`token refresh answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
      if (token === null) {
        if (!this.options.issue) throw new Error('no token to refresh and no `issue` to ask for one');
        const res = await this.request('POST', this.options.ledgerUrl!, '/v1/tokens', this.options.issue);
        if (res.status !== 201) throw new Error(`token issue answered ${res.status}: ${JSON.stringify(res.body)}`);
        token = (res.body as { token: string }).token;
      }
      const lic = await this.install(token, this.current ? 'refresh' : 'issue');
      this.failures = 0;
      this.schedule();
      return lic;
    } catch (err) {
      this.failures += 1;
      this.emit({ type: 'error', stage: this.current ? 'refresh' : 'issue', error: err as Error });
      this.schedule(Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1)));
      return null;
    }
  }

  private async install(token: string, source: 'option' | 'cache' | 'issue' | 'refresh'): Promise<VerifiedLicense> {
    const verify = () => verifyLicenseToken(token, this.keys, { now: this.now(), leewaySeconds: this.leewayMs / 1000 });
    let lic: VerifiedLicense;
    try {
      lic = await verify();
    } catch (err) {
      // A key rotated since the JWKS was fetched: fetch it again (rate limited) and retry once.
      if (!(err instanceof LicenseTokenError && err.code === 'UNKNOWN_KID') || !this.options.ledgerUrl || this.options.jwks || this.now() - this.lastJwksFetch < JWKS_REFETCH_INTERVAL_MS) throw err;
      await this.fetchJwks();
      lic = await verify();
    }
    const expected = this.current?.customerId ?? this.options.issue?.customerId ?? this.options.customerId;
    if (expected !== undefined && lic.customerId !== expected) throw new LicenseTokenError('CLAIMS_INVALID', `the token is for customer ${lic.customerId}, this client serves ${expected}`);
    this.current = lic;
    this.writeCache();
    this.emit({ type: 'token', position: lic.position, kid: lic.kid, expiresAt: new Date(lic.expiresAtMs).toISOString(), source });
    return lic;
  }

  private async fetchJwks(): Promise<void> {
    this.lastJwksFetch = this.now();
    const res = await this.request('GET', this.options.ledgerUrl!, '/.well-known/jwks.json');
    if (res.status !== 200) throw new Error(`JWKS answered ${res.status}`);
    const fetched = res.body as JSONWebKeySet;
    this.keys = new LicenseKeySet(this.options.trustedKeys ? await this.pinned(fetched, 'the ledger') : fetched);
    this.writeCache();
  }

  /** The keys of `set` whose thumbprint is pinned; the others are refused (and reported). */
  private async pinned(set: JSONWebKeySet, from: string): Promise<JSONWebKeySet> {
    const pins = new Set(this.options.trustedKeys ?? []);
    const keys = Array.isArray(set?.keys) ? set.keys : [];
    const kept: JSONWebKeySet['keys'] = [];
    const refused: string[] = [];
    for (const k of keys) {
      const thumbprint = await calculateJwkThumbprint(k, 'sha256').catch(() => null);
      if (thumbprint !== null && pins.has(thumbprint)) kept.push(k);
      else refused.push(String(k.kid ?? thumbprint ?? '?'));
    }
    if (refused.length > 0) {
      this.emit({ type: 'error', stage: from === 'the cache' ? 'cache' : 'jwks', error: new Error(`refused ${refused.length} signing key(s) from ${from} that are not pinned in trustedKeys: ${refused.join(', ')}`) });
    }
    return { keys: kept };
  }

  private async request(method: 'GET' | 'POST', base: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(new URL(path, base.endsWith('/') ? base : `${base}/`), {
      method,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...this.options.headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 2000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  }

  private cachePath(): string | null {
    return this.options.cacheDir ? join(this.options.cacheDir, 'entitlement-client.json') : null;
  }

  private readCache(): CacheFile | null {
    const path = this.cachePath();
    if (!path) return null;
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
      return parsed.version === 1 ? parsed : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.emit({ type: 'error', stage: 'cache', error: err as Error });
      return null;
    }
  }

  private writeCache(): void {
    const path = this.cachePath();
    if (!path) return;
    try {
      mkdirSync(this.options.cacheDir!, { recursive: true, mode: 0o700 });
      const file: CacheFile = { version: 1, token: this.current?.token ?? null, jwks: this.keys.toJSON() };
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(file), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, path);
    } catch (err) {
      this.emit({ type: 'error', stage: 'cache', error: err as Error });
    }
  }
}

/**
 * The instances of a sharded enforcement service: `partitions` is the partition count of
 * ledger.entitlements.v1, and each instance's `holds` its VIEW_PARTITIONS. Every partition must be
 * held by some instance. A service's /health shows its shard under components.enforcementView.shard.
 */
export interface EnforcementShards {
  readonly partitions: number;
  readonly instances: readonly { readonly url: string; readonly holds: readonly number[] }[];
}

/**
 * The URL of the instance that holds `customerId` (client-side routing: a router in front of the
 * shards does the same with partitionOf from @el/contracts). Throws a TypeError naming the partitions
 * no instance holds.
 */
export function shardUrlFor(customerId: string, shards: EnforcementShards): string {
  const byPartition = new Map<number, string>();
  for (const i of shards.instances) for (const p of i.holds) if (!byPartition.has(p)) byPartition.set(p, i.url);
  const missing = Array.from({ length: shards.partitions }, (_, p) => p).filter((p) => !byPartition.has(p));
  if (missing.length > 0) throw new TypeError(`enforcementShards: no instance holds partition${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${shards.partitions}`);
  return byPartition.get(partitionOf(customerId, shards.partitions))!;
}
