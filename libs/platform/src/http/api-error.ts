import { HttpException, HttpStatus, type ValidationError } from '@nestjs/common';
import { summarize, type FieldError } from '../errors/coded-error';
import { nestedDeeperThan } from '../validation/json-schema';

/** The one error body every endpoint returns. */
export interface ApiErrorBody {
  readonly statusCode: number;
  /** Stable, machine-readable: match on this, not on `message`. */
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /** Present for 400 VALIDATION_FAILED: one entry per bad field. */
  readonly errors?: readonly FieldError[];
}

/**
 * An error raised at the HTTP edge (pipes, guards, request headers), where the
 * status is part of the protocol (400 for a malformed request). Application
 * and domain code throw coded errors instead; the app's error table maps them.
 */
export class ApiException extends HttpException {
  constructor(
    status: HttpStatus | number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly fieldErrors?: readonly FieldError[],
  ) {
    super(message, status);
  }

  body(): ApiErrorBody {
    return {
      statusCode: this.getStatus(),
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(this.fieldErrors ? { errors: this.fieldErrors } : {}),
    };
  }
}

/** Flattens class-validator's error tree into paths like `lines[0].sku`. */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = !parent ? e.property : /^\d+$/.test(e.property) ? `${parent}[${e.property}]` : `${parent}.${e.property}`;
    for (const [constraint, message] of Object.entries(e.constraints ?? {})) {
      out.push({ path, constraint, message: message.replace(new RegExp(`^${escape(e.property)}\\b`), path) });
    }
    if (e.children?.length) out.push(...fieldErrors(e.children, path));
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function validationException(errors: readonly ValidationError[]): ApiException {
  const list = fieldErrors(errors);
  return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', summarize(list), undefined, list);
}

export function badRequest(path: string, message: string, constraint = 'invalid'): ApiException {
  return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `${path}: ${message}`, undefined, [{ path, message: `${path} ${message}`, constraint }]);
}

/** Deepest nesting a request body or query may have: no API shape comes close, and deeper input is refused before validation walks it. */
export const MAX_REQUEST_DEPTH = 32;

/** Refuses (400) a body or query nested deeper than MAX_REQUEST_DEPTH, in time bounded by the body size. */
export function tooDeep(value: unknown, where: string): void {
  if (!nestedDeeperThan(value, MAX_REQUEST_DEPTH)) return;
  const path = where === 'body' ? '(body)' : `(${where})`;
  const message = `the request ${where} is nested deeper than ${MAX_REQUEST_DEPTH} levels`;
  throw new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, undefined, [{ path, message, constraint: 'maxDepth' }]);
}
