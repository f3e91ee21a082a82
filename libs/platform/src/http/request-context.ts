import { createParamDecorator, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { hashOf } from '../ids/ids';
import { badRequest } from './api-error';

export type ActorType = 'user' | 'service' | 'erp' | 'system' | 'operator';
const ACTOR_TYPES: readonly ActorType[] = ['user', 'service', 'erp', 'system', 'operator'];
export type RequestSource = 'erp' | 'api' | 'portal' | 'system';
const SOURCES: readonly RequestSource[] = ['erp', 'api', 'portal', 'system'];

/** Who is asking and under which correlation: the envelope of every command a request issues. */
export interface RequestContext {
  readonly requestId: string;
  readonly correlationId: string;
  readonly actor: { readonly type: ActorType; readonly id: string };
  readonly source: RequestSource;
  readonly idempotencyKey?: string;
  /** Fingerprint of method, URL and body when an Idempotency-Key is given: a reused key with another request is refused. */
  readonly requestHash?: string;
  /** Revision from `If-Match`, for optimistic concurrency on writes. */
  readonly ifMatch?: number;
}

export const PUBLIC_ROUTE = 'el:public';
/** Marks a route that needs no caller identity (health, metrics, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

const KEY = /^[\x21-\x7e]{1,255}$/;
const CORRELATION = /^[\x21-\x7e]{1,128}$/;

function readRequestContext(req: FastifyRequest): RequestContext {
  const h = req.headers;
  const one = (name: string): string | undefined => {
    const v = h[name];
    return Array.isArray(v) ? v[0] : v;
  };
  let actor: RequestContext['actor'] = { type: 'service', id: 'anonymous' };
  const rawActor = one('x-actor');
  if (rawActor !== undefined) {
    const m = /^([a-z]+):(.{1,200})$/.exec(rawActor);
    if (!m || !(ACTOR_TYPES as readonly string[]).includes(m[1]!)) {
      throw badRequest('headers.x-actor', `must be "<type>:<id>" with type one of ${ACTOR_TYPES.join(', ')}`);
    }
    actor = { type: m[1] as ActorType, id: m[2]! };
  }
  const source = one('x-source') ?? 'api';
  if (!(SOURCES as readonly string[]).includes(source)) throw badRequest('headers.x-source', `must be one of ${SOURCES.join(', ')}`);
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
    actor,
    source: source as RequestSource,
    ...(idempotencyKey !== undefined ? { idempotencyKey, requestHash: hashOf({ method: req.method, url: req.url, body: req.body ?? null }) } : {}),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
  };
}

const CONTEXT = Symbol('el:request-context');

/**
 * The single place where a caller's identity is established for every route.
 * Today it reads the asserted actor from `X-Actor`; authentication (tokens,
 * mTLS) replaces the body of `canActivate` without touching any endpoint.
 */
@Injectable()
export class RequestContextGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<FastifyRequest & { [CONTEXT]?: RequestContext }>();
    req[CONTEXT] = readRequestContext(req);
    return true;
  }
}

/** Injects the request's context into a controller method. */
export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext => {
  const req = context.switchToHttp().getRequest<FastifyRequest & { [CONTEXT]?: RequestContext }>();
  return req[CONTEXT] ?? readRequestContext(req);
});
