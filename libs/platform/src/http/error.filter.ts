import { ArgumentsHost, Catch, HttpException, Inject, Logger, Optional, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import { codeOf, type FieldError } from '../errors/coded-error';
import { ACCESS_ERROR_TABLE } from '../identity/authenticator';
import { Metrics } from '../observability/metrics';
import { responseRecorder } from './bootstrap';
import { ApiException, type ApiErrorBody } from './api-error';

/**
 * Error code → HTTP status: one table per app (`ledger.errors.ts`), exact codes
 * only, so every row is a code that can really be thrown and a test can walk it.
 */
export type HttpErrorTable = Readonly<Record<string, number>>;
export const HTTP_ERROR_TABLE = Symbol('HTTP_ERROR_TABLE');
/** Codes raised by the platform itself in every service (credentials, permissions, rate limits). */
export const PLATFORM_ERROR_TABLE: HttpErrorTable = ACCESS_ERROR_TABLE;

@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');
  private readonly recordUnmatched: ((req: FastifyRequest, reply: FastifyReply) => void) | null;

  constructor(
    @Optional() @Inject(HTTP_ERROR_TABLE) private readonly table: HttpErrorTable = {},
    @Optional() metrics?: Metrics,
  ) {
    this.recordUnmatched = metrics ? responseRecorder(metrics) : null;
  }

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // Message handlers (@EventPattern) get their error back untouched: the transport retries or dead-letters it.
    if (host.getType() === 'rpc') return throwError(() => exception);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = this.toBody(exception);
    // An answer the error table chose (a read side behind minPosition) is expected; anything else at 5xx is a failure to look at.
    if (body.statusCode >= 500 && body.code === 'INTERNAL') this.logger.error({ err: exception, reqId: reply.request?.id }, 'request failed');
    else if (body.statusCode >= 500) this.logger.warn({ code: body.code, message: body.message, reqId: reply.request?.id }, 'request answered unavailable');
    if (body.code === 'RATE_LIMITED' || typeof body.details?.['retryAfterSeconds'] === 'number') void reply.header('retry-after', String(body.details?.['retryAfterSeconds'] ?? 1));
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
    // Routes record themselves (route-level onResponse hooks); a request that matched none is recorded here.
    const request = reply.request;
    if (this.recordUnmatched && request && !request.routeOptions?.url) this.recordUnmatched(request, reply);
  }

  toBody(exception: unknown): ApiErrorBody {
    if (exception instanceof ApiException) return exception.body();
    const code = codeOf(exception);
    if (code !== null) {
      // The service's own table, then the codes every service shares (the access layer's).
      const status = this.table[code] ?? PLATFORM_ERROR_TABLE[code];
      if (status !== undefined) {
        const e = exception as { message: string; details?: Record<string, unknown>; fieldErrors?: readonly FieldError[] };
        const details = e.details && Object.keys(e.details).length > 0 ? e.details : undefined;
        return { statusCode: status, code, message: e.message, ...(details ? { details } : {}), ...(e.fieldErrors ? { errors: e.fieldErrors } : {}) };
      }
      this.logger.error({ code }, `error code ${code} has no row in this app's error table: answered 500`);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message = typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? exception.message);
      return { statusCode: status, code: HTTP_CODES[status] ?? `HTTP_${status}`, message };
    }
    // Errors raised by Fastify itself (malformed JSON, wrong content type, body too large).
    const fastify = exception as { statusCode?: number; code?: string; message?: string };
    if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
      const code = fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : 'MALFORMED_REQUEST';
      return { statusCode: fastify.statusCode, code, message: fastify.message ?? 'malformed request' };
    }
    const down = dependencyDown(exception);
    if (down) return { statusCode: 503, code: 'DEPENDENCY.UNAVAILABLE', message: `a service this request needs is unavailable (${down}); try again shortly`, details: { retryAfterSeconds: 1 } };
    return { statusCode: 500, code: 'INTERNAL', message: 'internal error; see the server log for this request' };
  }
}

/** Socket errors, and PostgreSQL's "cannot connect now" / connection failures (SQLSTATE 57P0x, 08xxx). */
const DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const DOWN_MESSAGES = /Connection terminated|connection timeout|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)|KafkaJSConnectionError|There is no leader/i;

/**
 * What is down when a request failed because a dependency (PostgreSQL, the
 * brokers) could not be reached: a 503 the caller can retry, not a 500 —
 * the request was fine. Null for anything else.
 */
export function dependencyDown(exception: unknown): string | null {
  let e = exception as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown; driverError?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 6; depth++) {
    if (typeof e.code === 'string' && DOWN_CODES.has(e.code)) return e.code;
    const text = `${String(e.name ?? '')} ${String(e.message ?? '')}`;
    if (DOWN_MESSAGES.test(text)) return String(e.message ?? e.name).slice(0, 120);
    e = (e.driverError ?? e.cause ?? e.originalError) as typeof e;
  }
  return null;
}

const HTTP_CODES: Record<number, string> = {
  // The framework's own 400s are requests it could not read (malformed JSON, an empty JSON body).
  400: 'MALFORMED_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'TOO_MANY_REQUESTS',
  503: 'UNAVAILABLE',
};
