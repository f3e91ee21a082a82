/** One problem with one field of a request or message: `path` is like `lines[0].quantity`. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
  /** The rule that failed (`required`, `maxLength`, …). */
  readonly constraint: string;
}

/**
 * A failure with a stable, machine-readable code (`CONCURRENCY.STALE_REVISION`).
 * Application code throws these and never picks an HTTP status: each app's
 * error table maps codes to statuses, in one place (`*.errors.ts`).
 */
export class CodedError extends Error {
  override readonly name: string = 'CodedError';
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
    /** Set for VALIDATION_FAILED: one entry per bad field. */
    readonly fieldErrors?: readonly FieldError[],
  ) {
    super(message);
  }
}

/** A validation failure found past the HTTP edge (a cursor, a message): code VALIDATION_FAILED, with paths. */
export function validationFailed(errors: readonly FieldError[]): CodedError {
  return new CodedError('VALIDATION_FAILED', summarize(errors), undefined, errors);
}

/** The first five problems, for the `message` of a VALIDATION_FAILED error. */
export function summarize(errors: readonly FieldError[]): string {
  return errors.slice(0, 5).map((f) => f.message).join('; ') + (errors.length > 5 ? `; and ${errors.length - 5} more` : '') || 'invalid request';
}

/**
 * The stable code of an application error: a CodedError's, or any error's code
 * shaped like `AREA.REASON` (DomainError, the event store's errors). Node's and
 * Fastify's own codes (`ENOENT`, `FST_ERR_…`) are not ours.
 */
export function codeOf(e: unknown): string | null {
  if (e instanceof CodedError) return e.code;
  const code = e instanceof Error ? (e as unknown as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z_]+(\.[A-Z_]+)+$/.test(code) ? code : null;
}
