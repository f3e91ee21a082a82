import type { DomainErrorCode } from '@el/domain';
import { CodedError } from '@el/platform';

/** Codes the ledger's application layer raises, beside the domain's rejections. */
export const LEDGER_ERROR_CODES = [
  'IDEMPOTENCY.KEY_REUSED',
  'CONCURRENCY.STALE_REVISION',
  'CONCURRENCY.CONFLICT',
  'TOKEN.INVALID',
  'CATALOG_VERSION.NOT_FOUND',
  'CUSTOMER.NOT_FOUND',
  'ORDER.NOT_FOUND',
  'WEBHOOK.NOT_CONFIGURED',
  'WEBHOOK.BAD_SIGNATURE',
  'WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE',
  'WEBHOOK.UNSUPPORTED_EVENT',
  'WEBHOOK.NO_CUSTOMER',
  'WEBHOOK.NO_ENTITLEMENT',
] as const;
export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

/** A failure of the ledger's application layer, with its stable code (never an HTTP status). */
export class LedgerError extends CodedError {
  override readonly name = 'LedgerError';
  constructor(code: LedgerErrorCode, message: string, details?: Readonly<Record<string, unknown>>) {
    super(code, message, details);
  }
}

/** Codes raised by the shared libraries the ledger's queries use (`@el/read-models`, `@el/platform`). */
type SharedCode = 'READ_MODEL.BEHIND' | 'VALIDATION_FAILED';

/**
 * Domain rejections no API call can cause, with why: the edge validates first,
 * or only the ledger's own background work issues the command. One that still
 * reaches a caller is a bug: it answers 500 and is logged.
 */
export const INTERNAL_DOMAIN_CODES = {
  'QUANTITY.INVALID': 'every quantity is validated as an integer >= 1 at the edge (request bodies, order lines); token lifetimes are at least 60 s',
  'SEATS.INVALID_COUNT': 'seat counts are validated as integers >= 1 at the edge; renewals multiply validated quantities',
  'ENTITLEMENT.ALREADY_EXISTS': 'new entitlement ids are random or derived from what makes a retry the same command (Idempotency-Key, order line, access request)',
  'ENTITLEMENT.NOT_DUE_TO_EXPIRE': 'only the expiry sweeper records expiries, for entitlements past validity and grace',
  'ORDER.NOT_RECEIVED': 'the order process completes only orders it has received',
  'ORDER.ALREADY_COMPLETED': 'the order process completes an order once; a redelivery answers with the recorded outcome',
  'ACCESS_REQUEST.ALREADY_EXISTS': 'request ids are random or derived from the Idempotency-Key, whose retries replay',
  'ACCESS_REQUEST.NOT_APPROVED': 'only approved requests are carried out, by the approval itself or by its recovery',
  'API_KEY.ALREADY_EXISTS': 'key ids are 64 random bits drawn by the ledger, never given by a caller',
} as const satisfies Partial<Record<DomainErrorCode, string>>;

export type LedgerHttpCode = Exclude<DomainErrorCode, keyof typeof INTERNAL_DOMAIN_CODES> | LedgerErrorCode | SharedCode;

/**
 * The one place where a code becomes an HTTP status, for the ledger's API:
 * 400 a request that is malformed, 401 a credential or token that does not
 * verify, 403 a rule about who may act, 404 what does not exist, 409 a
 * conflict with the current state, 412 a stale If-Match, 422 a well-formed
 * request that can never succeed as sent, 503 a read side behind minPosition
 * or a feature this installation has not configured.
 * Every row can be produced through the API (`ledger.errors.e2e.spec.ts` walks
 * the table), and every domain code is either here or internal (above).
 */
export const ledgerErrorTable: Readonly<Record<LedgerHttpCode, number>> = {
  VALIDATION_FAILED: 400,
  'TOKEN.INVALID': 401,
  'WEBHOOK.BAD_SIGNATURE': 401,
  'WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE': 401,
  'ACCESS_REQUEST.SELF_APPROVAL': 403,
  'ENTITLEMENT.NOT_FOUND': 404,
  'ACCESS_REQUEST.NOT_FOUND': 404,
  'ORDER.NOT_FOUND': 404,
  'CUSTOMER.NOT_FOUND': 404,
  'CATALOG_VERSION.NOT_FOUND': 404,
  'API_KEY.NOT_FOUND': 404,
  'API_KEY.ALREADY_REVOKED': 409,
  'API_KEY.LAST_ADMIN': 409,
  'ENTITLEMENT.ALREADY_REVOKED': 409,
  'ENTITLEMENT.ALREADY_SUSPENDED': 409,
  'ENTITLEMENT.NOT_SUSPENDED': 409,
  'ENTITLEMENT.EXPIRED': 409,
  'ENTITLEMENT.PERPETUAL': 409,
  'ENTITLEMENT.CUSTOMER_MISMATCH': 409,
  'PLAN.SAME_PLAN': 409,
  'PLAN.PRODUCT_MISMATCH': 409,
  'PLAN.NOT_AN_UPGRADE': 409,
  'PLAN.NOT_A_DOWNGRADE': 409,
  'ADD_ON.PRODUCT_MISMATCH': 409,
  'ADD_ON.NOT_ATTACHED': 409,
  'SEATS.BELOW_ASSIGNED': 409,
  'SEAT.NONE_AVAILABLE': 409,
  'SEAT.ALREADY_ASSIGNED': 409,
  'SEAT.NOT_ASSIGNED': 409,
  'DEVICE.LIMIT_REACHED': 409,
  'DEVICE.ALREADY_ACTIVE': 409,
  'DEVICE.NOT_ACTIVE': 409,
  'DEVICE.ABOVE_LIMIT': 409,
  'ORDER.PAYLOAD_MISMATCH': 409,
  'ACCESS_REQUEST.ALREADY_DECIDED': 409,
  'CONCURRENCY.CONFLICT': 409,
  'CONCURRENCY.STALE_REVISION': 412,
  'CATALOG.UNKNOWN_SKU': 422,
  'CATALOG.NOT_A_PLAN': 422,
  'CATALOG.NOT_AN_ADD_ON': 422,
  'ORDER.INVALID_LINE': 422,
  'API_KEY.INVALID_SCOPE': 422,
  'IDEMPOTENCY.KEY_REUSED': 422,
  'WEBHOOK.UNSUPPORTED_EVENT': 422,
  'WEBHOOK.NO_CUSTOMER': 422,
  'WEBHOOK.NO_ENTITLEMENT': 422,
  'READ_MODEL.BEHIND': 503,
  'WEBHOOK.NOT_CONFIGURED': 503,
};
