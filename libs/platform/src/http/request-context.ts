import { createParamDecorator, Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { hashOf } from '../ids/ids';
import { badRequest } from './api-error';
import { ACCESS, type AccessDeclaration } from '../identity/access';
import { Authenticator, forbidden, NoAuthenticator } from '../identity/authenticator';
import { permits } from '../identity/permissions';
import { actorTypeOf, type Principal } from '../identity/principal';
import { rateLimited, RateLimiter } from '../identity/rate-limiter';

export type ActorType = 'user' | 'service' | 'erp' | 'system' | 'operator';
export type RequestSource = 'erp' | 'api' | 'portal' | 'system';

/** Who is asking and under which correlation: the envelope of every command a request issues. */
export interface RequestContext {
  readonly requestId: string;
  readonly correlationId: string;
  /** Who acts, from the verified credential: recorded on every event the request causes. */
  readonly actor: { readonly type: ActorType; readonly id: string };
  /** The verified principal (what it may see and do). */
  readonly principal: Principal;
  readonly source: RequestSource;
  /** The client's Idempotency-Key, scoped to the principal (`<principal id>/<key>`). */
  readonly idempotencyKey?: string;
  /** Fingerprint of method, URL and body when an Idempotency-Key is given: a reused key with another request is refused. */
  readonly requestHash?: string;
  /** Revision from `If-Match`, for optimistic concurrency on writes. */
  readonly ifMatch?: number;
}

const KEY = /^[\x21-\x7e]{1,255}$/;
const CORRELATION = /^[\x21-\x7e]{1,128}$/;

/** The principal of a public route: sees no customer and holds no permission. */
export const ANONYMOUS: Principal = { id: 'anonymous', kind: 'system', role: 'customer-user', name: 'anonymous', customers: [] };

function readRequestContext(req: FastifyRequest, principal: Principal): RequestContext {
  const h = req.headers;
  const one = (name: string): string | undefined => {
    const v = h[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if (one('x-actor') !== undefined) {
    throw badRequest('headers.x-actor', 'is no longer accepted: the actor is the principal of the Authorization credential');
  }
  // Where a request comes from is recorded on its events, so the caller chooses only among what its role may claim.
  const allowedSources: readonly RequestSource[] = principal.role === 'erp' ? ['erp', 'api'] : ['api', 'portal'];
  const source = one('x-source') ?? allowedSources[0]!;
  if (!(allowedSources as readonly string[]).includes(source)) throw badRequest('headers.x-source', `must be one of ${allowedSources.join(', ')} for ${/^[aeio]/.test(principal.role) ? 'an' : 'a'} ${principal.role} credential`);
  const idempotencyKey = one('idempotency-key');
  if (idempotencyKey !== undefined && !KEY.test(idempotencyKey)) {
    throw badRequest('headers.idempotency-key', 'must be 1 to 255 printable ASCII characters');
  }
  let ifMatch: number | undefined;
  const rawIfMatch = one('if-match');
  if (rawIfMatch !== undefined) {
    const m = /^(?:W\/)?"?(-?\d+)"?$/.exec(rawIfMatch.trim());
    if (!m) throw badRequest('headers.if-match', 'must be an ETag returned by this API, e.g. "3"');
    ifMatch = Number(m[1]);
  }
  const givenCorrelation = one('x-correlation-id');
  if (givenCorrelation !== undefined && !CORRELATION.test(givenCorrelation)) {
    throw badRequest('headers.x-correlation-id', 'must be 1 to 128 printable ASCII characters');
  }
  const correlationId = givenCorrelation ?? String(req.id);
  return {
    requestId: String(req.id),
    correlationId,
    actor: { type: actorTypeOf(principal), id: principal.id },
    principal,
    source: source as RequestSource,
    // Keys are the principal's own: another principal's identical key names another request.
    ...(idempotencyKey !== undefined ? { idempotencyKey: `${principal.id}/${idempotencyKey}`, requestHash: hashOf({ principal: principal.id, method: req.method, url: req.url, body: req.body ?? null }) } : {}),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
  };
}

const CONTEXT = Symbol('el:request-context');
const PRINCIPAL = Symbol('el:principal');
type WithContext = FastifyRequest & { [CONTEXT]?: RequestContext; [PRINCIPAL]?: Principal };

/** What the access guard enforces besides the permission table. */
export interface AccessPolicy {
  /** /metrics needs no credential (scrapers inside the cluster); otherwise it needs metrics:read. */
  readonly metricsPublic: boolean;
  /** Writes (any method but GET/HEAD) per second per principal; 0 = unlimited. */
  readonly writesPerSecond: number;
  readonly writesBurst: number;
}
export const ACCESS_POLICY = Symbol('ACCESS_POLICY');
export const DEFAULT_ACCESS_POLICY: AccessPolicy = { metricsPublic: true, writesPerSecond: 0, writesBurst: 0 };

/** The principal a raw Fastify route's onRequest hook authenticated (see checkRouteAccess). */
export function principalOf(req: FastifyRequest): Principal | undefined {
  return (req as WithContext)[PRINCIPAL];
}
export function setPrincipal(req: FastifyRequest, principal: Principal): void {
  (req as WithContext)[PRINCIPAL] = principal;
}

/**
 * The single place where a caller's identity is established for every Nest
 * route: the route's access declaration (`@Access`, `@Public`, `@SignedRequest`)
 * is read, the bearer credential verified (401), the permission table
 * consulted (403), writes rate-limited per principal (429), and the request
 * context built with the actor taken from the credential. A route without a
 * declaration is refused: the guard fails closed.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly writes: RateLimiter;

  constructor(
    private readonly reflector: Reflector,
    @Optional() private readonly authenticator: Authenticator = new NoAuthenticator(),
    @Optional() @Inject(ACCESS_POLICY) private readonly policy: AccessPolicy = DEFAULT_ACCESS_POLICY,
  ) {
    this.writes = new RateLimiter(policy.writesPerSecond, policy.writesBurst || policy.writesPerSecond);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<WithContext>();
    const declaration = this.reflector.getAllAndOverride<AccessDeclaration | undefined>(ACCESS, [context.getHandler(), context.getClass()]);
    if (!declaration) throw new Error(`route ${req.method} ${req.routeOptions?.url} has no access declaration (@Access, @Public or @SignedRequest): refused`);
    if (declaration.kind !== 'permission' || (declaration.permission === 'metrics:read' && this.policy.metricsPublic)) {
      req[CONTEXT] = readRequestContext(req, ANONYMOUS);
      return true;
    }
    const principal = await this.authenticator.authenticate(req.headers.authorization);
    if (!permits(principal.role, declaration.permission)) throw forbidden(principal, declaration.permission);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const wait = this.writes.take(principal.id);
      if (wait > 0) throw rateLimited(wait, 'writes');
    }
    req[PRINCIPAL] = principal;
    req[CONTEXT] = readRequestContext(req, principal);
    return true;
  }
}

/** Injects the request's context into a controller method. */
export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext => {
  const req = context.switchToHttp().getRequest<WithContext>();
  const ctx = req[CONTEXT];
  if (!ctx) throw new Error('no request context: the access guard did not run');
  return ctx;
});

/** The access policy a service's configuration asks for. */
export function accessPolicy(config: { readonly METRICS_PUBLIC: boolean; readonly RATE_LIMIT_WRITES_PER_SECOND: number; readonly RATE_LIMIT_WRITES_BURST: number }): AccessPolicy {
  return { metricsPublic: config.METRICS_PUBLIC, writesPerSecond: config.RATE_LIMIT_WRITES_PER_SECOND, writesBurst: config.RATE_LIMIT_WRITES_BURST };
}
