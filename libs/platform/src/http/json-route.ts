import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from '@nestjs/common';
import type { ApiErrorBody } from './api-error';
import { summarize, type FieldError } from '../errors/coded-error';
import { compileSchema, type SchemaValidator } from '../validation/json-schema';
import type { LatencySeries } from '../observability/fast-metrics';
import type { Metrics } from '../observability/metrics';
import { forbidden, type Authenticator } from '../identity/authenticator';
import { permits, type Permission } from '../identity/permissions';
import type { Principal } from '../identity/principal';
import { rateLimited, type RateLimiter } from '../identity/rate-limiter';
import { setPrincipal } from './request-context';

/**
 * Hot routes served by Fastify directly (no Nest pipeline), validated with the
 * same strict JSON Schema validation as every other boundary.
 */
export function validationBody(errors: readonly FieldError[]): ApiErrorBody {
  return { statusCode: 400, code: 'VALIDATION_FAILED', message: summarize(errors), errors };
}

export interface JsonRouteOptions<B, R> {
  readonly method: 'POST' | 'GET';
  readonly url: string;
  /** JSON Schema of the body (validated strictly). */
  readonly body?: object;
  /** JSON Schema of the 200 response (serialized with it: fast, and nothing else leaks out). */
  readonly response: object;
  readonly handler: (body: B, request: FastifyRequest) => R | Promise<R>;
  /** Maps a thrown error to the API error body (the app's error filter). */
  readonly toErrorBody: (error: unknown) => ApiErrorBody;
  /**
   * Records http_server_request_duration_seconds itself (up to the handler's answer; serialization
   * and the socket write are not included), so the route needs no onResponse hook. Without it the
   * route is recorded by the app's hook like any other.
   */
  readonly metrics?: Metrics;
  /**
   * Who may call: the credential is verified in an onRequest hook (before the
   * body is parsed), answered from the authenticator's cache without a promise
   * when it was seen before; the principal is then `principalOf(request)`.
   */
  readonly access: { readonly authenticator: Authenticator; readonly permission: Permission; readonly limiter?: RateLimiter };
}

/** An onRequest hook that authenticates, checks the permission and the rate limit, and attaches the principal. */
export function routeAccess(access: JsonRouteOptions<unknown, unknown>['access']): (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void {
  const { authenticator, permission, limiter } = access;
  const admit = (request: FastifyRequest, principal: Principal): void => {
    if (!permits(principal.role, permission)) throw forbidden(principal, permission);
    if (limiter) {
      const wait = limiter.take(principal.id);
      if (wait > 0) throw rateLimited(wait, 'checks');
    }
    setPrincipal(request, principal);
  };
  return (request, _reply, done) => {
    try {
      const result = authenticator.authenticate(request.headers.authorization);
      if (result instanceof Promise) {
        result.then(
          (principal) => {
            try {
              admit(request, principal);
              done();
            } catch (err) {
              done(err as Error);
            }
          },
          (err: Error) => done(err),
        );
        return;
      }
      admit(request, result);
      done();
    } catch (err) {
      done(err as Error);
    }
  };
}

/** Observes a self-timed route's latency by status, with the series cached. */
function selfTimer(metrics: Metrics, method: string, url: string): (status: number, reply: FastifyReply) => void {
  const series = new Map<number, LatencySeries>();
  return (status, reply) => {
    let s = series.get(status);
    if (!s) series.set(status, (s = metrics.httpDuration.child({ method, route: url, status: String(status) })));
    s.observe(reply.elapsedTime / 1000);
  };
}

const failures = new Logger('http');

/** Registers a route on Fastify directly, for endpoints where the Nest pipeline's cost matters. */
export function jsonRoute<B, R>(fastify: FastifyInstance, options: JsonRouteOptions<B, R>): void {
  const validate: SchemaValidator | null = options.body ? compileSchema(options.body) : null;
  const timed = options.metrics ? selfTimer(options.metrics, options.method, options.url) : null;
  fastify.route({
    method: options.method,
    url: options.url,
    schema: { response: { 200: options.response } },
    onRequest: routeAccess(options.access as JsonRouteOptions<unknown, unknown>['access']),
    ...(timed ? { config: { selfTimed: true } } : {}),
    handler: (request, reply) => {
      if (validate && !validate.isValid(request.body)) {
        const body = validationBody(validate(request.body));
        timed?.(400, reply);
        return (reply as FastifyReply).status(400).header('content-type', 'application/json; charset=utf-8').serializer(JSON.stringify).send(body);
      }
      const result = options.handler(request.body as B, request);
      if (result instanceof Promise) {
        return result.then((value) => {
          timed?.(200, reply);
          return value;
        });
      }
      timed?.(200, reply);
      return Promise.resolve(result);
    },
    errorHandler: (error, request, reply) => {
      const body = options.toErrorBody(error);
      if (body.statusCode >= 500) failures.error({ err: error, reqId: request.id }, 'request failed');
      timed?.(body.statusCode, reply);
      if (body.code === 'RATE_LIMITED') void reply.header('retry-after', String(body.details?.['retryAfterSeconds'] ?? 1));
      void (reply as FastifyReply).status(body.statusCode).header('content-type', 'application/json; charset=utf-8').serializer(JSON.stringify).send(body);
    },
  });
}

/** A JSON Schema as an OpenAPI 3.0 schema: no `$id`, `type: [t, "null"]` as `nullable`. */
export function openApiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApiSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$id') continue;
    if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      out['type'] = types.length === 1 ? types[0] : types;
      if (types.length !== v.length) out['nullable'] = true;
      continue;
    }
    if (k === 'exclusiveMinimum' && typeof v === 'number') {
      out['minimum'] = v;
      out['exclusiveMinimum'] = true;
      continue;
    }
    out[k] = openApiSchema(v);
  }
  return out;
}
