/**
 * The metering service's error table: where its codes become HTTP statuses.
 * Usage events refused one by one are not errors: they answer in the batch's
 * results with their code (USAGE.UNKNOWN_CUSTOMER, USAGE.TOO_LATE, …).
 */
export const meteringErrorTable = {
  /** A customer the credential may not see, or one with no entitlement (the same answer). */
  'CUSTOMER.NOT_FOUND': 404,
  /** An entitlement the customer does not hold. */
  'ENTITLEMENT.NOT_FOUND': 404,
  /** A feature none of the customer's entitlements meters. */
  'USAGE.UNKNOWN_FEATURE': 404,
} as const satisfies Readonly<Record<string, number>>;
