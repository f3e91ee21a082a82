import { ArgumentsHost, Catch, HttpException, Inject, Logger, Optional, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from '../observability/metrics';
import { responseRecorder } from './bootstrap';
import { ApiException, type ApiErrorBody } from './api-error';

/**
 * Maps stable error codes to HTTP statuses: one table per app. Keys are exact
 * codes (`SEAT.NONE_AVAILABLE`) or prefixes ending in `.*` (`CATALOG.*`), or a
 * suffix form `*.NOT_FOUND`. The first exact match wins, then suffixes, then prefixes.
 */
export type HttpErrorTable = Readonly<Record<string, number>>;
export const HTTP_ERROR_TABLE = Symbol('HTTP_ERROR_TABLE');

export function statusForCode(table: HttpErrorTable, code: string): number | undefined {
  if (table[code] !== undefined) return table[code];
  for (const [key, status] of Object.entries(table)) if (key.startsWith('*.') && code.endsWith(key.slice(1))) return status;
  for (const [key, status] of Object.entries(table)) if (key.endsWith('.*') && code.startsWith(key.slice(0, -1))) return status;
  return undefined;
}

interface CodedError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

function isCoded(e: unknown): e is CodedError {
  const code = e instanceof Error ? (e as unknown as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z_]+\.[A-Z_.]+$/.test(code);
}

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

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error({ err: exception, reqId: reply.request?.id }, 'request failed');
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
    // Routes record themselves (route-level onResponse hooks); a request that matched none is recorded here.
    const request = reply.request;
    if (this.recordUnmatched && request && !request.routeOptions?.url) this.recordUnmatched(request, reply);
  }

  toBody(exception: unknown): ApiErrorBody {
    if (exception instanceof ApiException) return exception.body();
    if (isCoded(exception)) {
      const status = statusForCode(this.table, exception.code);
      if (status !== undefined) {
        return { statusCode: status, code: exception.code, message: exception.message, ...(exception.details ? { details: exception.details } : {}) };
      }
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
    return { statusCode: 500, code: 'INTERNAL', message: 'internal error; see the server log for this request' };
  }
}

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
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
