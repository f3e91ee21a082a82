import type { HttpErrorTable } from '@el/platform';

/**
 * Domain error codes → HTTP status: the one table for the ledger's API.
 * 404 for what does not exist, 409 for a conflict with the current state,
 * 412 for a stale If-Match, 422 for requests that can never succeed as sent.
 */
export const ledgerErrorTable: HttpErrorTable = {
  '*.NOT_FOUND': 404,
  'CONCURRENCY.STALE_REVISION': 412,
  'CONCURRENCY.CONFLICT': 409,
  'CONCURRENCY.WRONG_EXPECTED_REVISION': 409,
  'EVENT_STORE.EVENT_ID_CONFLICT': 409,
  'IDEMPOTENCY.KEY_REUSED': 422,
  'CATALOG.*': 422,
  'QUANTITY.INVALID': 422,
  'SEATS.INVALID_COUNT': 422,
  'ORDER.INVALID_LINE': 422,
  'ORDER.PAYLOAD_MISMATCH': 409,
  'ORDER.*': 409,
  'ACCESS_REQUEST.SELF_APPROVAL': 403,
  'READ_MODEL.BEHIND': 503,
  'TOKEN.INVALID': 401,
  'ENTITLEMENT.*': 409,
  'PLAN.*': 409,
  'ADD_ON.*': 409,
  'SEATS.*': 409,
  'SEAT.*': 409,
  'DEVICE.*': 409,
  'ACCESS_REQUEST.*': 409,
};
