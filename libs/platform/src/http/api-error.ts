import { HttpException, HttpStatus, type ValidationError } from '@nestjs/common';

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

export interface FieldError {
  /** Path into the request body or query, e.g. `lines[0].quantity`. */
  readonly path: string;
  readonly message: string;
  readonly constraint: string;
}

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
  const summary = list.slice(0, 5).map((f) => f.message).join('; ') + (list.length > 5 ? `; and ${list.length - 5} more` : '');
  return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', summary || 'invalid request', undefined, list);
}

export function badRequest(path: string, message: string, constraint = 'invalid'): ApiException {
  return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `${path}: ${message}`, undefined, [{ path, message: `${path} ${message}`, constraint }]);
}
