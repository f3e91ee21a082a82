/**
 * Stable rejection codes. Clients match on these strings, so they never change
 * meaning; new ones may be added. Each app maps them to HTTP status in one table.
 */
export const DomainErrorCodes = [
  'CATALOG.UNKNOWN_SKU',
  'CATALOG.NOT_A_PLAN',
  'CATALOG.NOT_AN_ADD_ON',
  'QUANTITY.INVALID',
  'ENTITLEMENT.NOT_FOUND',
  'ENTITLEMENT.ALREADY_EXISTS',
  'ENTITLEMENT.ALREADY_REVOKED',
  'ENTITLEMENT.ALREADY_SUSPENDED',
  'ENTITLEMENT.NOT_SUSPENDED',
  'ENTITLEMENT.EXPIRED',
  'ENTITLEMENT.NOT_DUE_TO_EXPIRE',
  'ENTITLEMENT.PERPETUAL',
  'ENTITLEMENT.CUSTOMER_MISMATCH',
  'PLAN.SAME_PLAN',
  'PLAN.PRODUCT_MISMATCH',
  'PLAN.NOT_AN_UPGRADE',
  'PLAN.NOT_A_DOWNGRADE',
  'ADD_ON.PRODUCT_MISMATCH',
  'ADD_ON.NOT_ATTACHED',
  'SEATS.INVALID_COUNT',
  'SEATS.BELOW_ASSIGNED',
  'SEAT.NONE_AVAILABLE',
  'SEAT.ALREADY_ASSIGNED',
  'SEAT.NOT_ASSIGNED',
  'DEVICE.LIMIT_REACHED',
  'DEVICE.ALREADY_ACTIVE',
  'DEVICE.NOT_ACTIVE',
  'DEVICE.ABOVE_LIMIT',
  'ORDER.PAYLOAD_MISMATCH',
  'ORDER.INVALID_LINE',
  'ORDER.NOT_RECEIVED',
  'ORDER.ALREADY_COMPLETED',
  'ACCESS_REQUEST.NOT_FOUND',
  'ACCESS_REQUEST.ALREADY_EXISTS',
  'ACCESS_REQUEST.ALREADY_DECIDED',
  'ACCESS_REQUEST.SELF_APPROVAL',
  'ACCESS_REQUEST.NOT_APPROVED',
  'API_KEY.NOT_FOUND',
  'API_KEY.ALREADY_EXISTS',
  'API_KEY.ALREADY_REVOKED',
  'API_KEY.INVALID_SCOPE',
  'API_KEY.LAST_ADMIN',
] as const;

export type DomainErrorCode = (typeof DomainErrorCodes)[number];

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export function reject(
  code: DomainErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): never {
  throw new DomainError(code, message, details);
}
