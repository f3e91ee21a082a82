import { HttpException, HttpStatus, type ValidationError } from '@nestjs/common';
import { summarize, type FieldError } from '../errors/coded-error';
import { hasLoneSurrogate, nestedDeeperThan } from '../validation/json-schema';

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

/** Names every object inherits (`toString`, `constructor`, `hasOwnProperty`, `__proto__`, …). */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

function unsafeParts(value: unknown, path: string, out: FieldError[]): FieldError[] {
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) out.push({ path: path || '(body)', constraint: 'wellFormedUnicode', message: `${path || '(body)'} must be well-formed Unicode text: it holds a lone surrogate (\\ud800–\\udfff without its pair)` });
    return out;
  }
  if (value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => unsafeParts(v, `${path}[${i}]`, out));
    return out;
  }
  for (const [key, v] of Object.entries(value)) {
    const p = path ? `${path}.${key}` : key;
    if (INHERITED.has(key)) out.push({ path: p, constraint: 'whitelistValidation', message: `property ${p} should not exist` });
    else if (hasLoneSurrogate(key)) out.push({ path: p, constraint: 'wellFormedUnicode', message: `${p}: a key must be well-formed Unicode text` });
    unsafeParts(v, p, out);
  }
  return out;
}

/**
 * Refuses (400) a body or query that class-validator would let through though it must not reach a
 * handler: a key named like a member every object inherits (its whitelist looks keys up in a plain
 * object, where `toString` or `hasOwnProperty` are always "found", so `{"hasOwnProperty": "x"}`
 * passed `forbidNonWhitelisted`), and text with a lone surrogate (see hasLoneSurrogate). Run after
 * `tooDeep`, so the walk is bounded.
 */
export function unsafeInput(value: unknown): void {
  const errors = unsafeParts(value, '', []);
  if (errors.length > 0) throw new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', summarize(errors), undefined, errors);
}
