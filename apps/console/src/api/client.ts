import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './openapi';
import { session } from './session';

/** One problem with one field, as the API reports it (`lines[0].quantity`). */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** The API's error envelope as an exception: status, stable code, message, field paths. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: readonly FieldProblem[] = [],
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** The viewer's credential on every call, in a header (never in a URL); a 401 ends the session. */
/** Recorded on the events the console's writes cause (X-Source): `portal`, except for an ERP key, which may not say so. */
let source: 'portal' | null = null;
export function recordWritesAs(s: 'portal' | null): void {
  source = s;
}

const auth: Middleware = {
  onRequest({ request }) {
    const credential = session.credential();
    if (credential && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${credential}`);
    if (source && request.method !== 'GET') request.headers.set('x-source', source);
    return request;
  },
  onResponse({ request, response }) {
    // A 401 ends the session only if it was for the credential in use now (not a late answer to an earlier one).
    if (response.status === 401 && request.headers.get('authorization') === `Bearer ${session.credential()}`) session.expired('your credential was not accepted (revoked or expired)');
    return response;
  },
};

/**
 * The typed client: every path, parameter and body is checked against the
 * OpenAPI document the server publishes (openapi.d.ts, generated from
 * /docs/openapi.json and kept equal to it by the console's e2e test).
 */
export const client = createClient<paths>({ baseUrl: window.location.origin });
client.use(auth);

interface Envelope {
  statusCode?: number;
  code?: string;
  message?: string;
  errors?: { path: string; message: string }[];
  details?: Record<string, unknown>;
}

/**
 * Unwraps an openapi-fetch answer: its data, or an ApiError. `T` defaults to
 * what the document says; routes it describes in prose name the server's type.
 */
export async function call<T = never, D = unknown>(answer: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<[T] extends [never] ? NonNullable<D> : T> {
  let r: { data?: D; error?: unknown; response: Response };
  try {
    r = await answer;
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the server could not be reached (${(err as Error).message})`);
  }
  if (r.response.ok) return r.data as never;
  const e = (r.error ?? {}) as Envelope;
  throw new ApiError(r.response.status, e.code ?? `HTTP_${r.response.status}`, e.message ?? r.response.statusText, e.errors ?? [], e.details ?? {});
}
