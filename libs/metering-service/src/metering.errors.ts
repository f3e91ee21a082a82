/**
 * The metering service's error table: the one place where its codes become
 * HTTP statuses (refused usage events are results of a batch, not errors).
 */
export const meteringErrorTable = {
  /** Usage or alerts of a customer with no entitlement, or one the credential may not see (as if it did not exist). */
  'CUSTOMER.NOT_FOUND': 404,
} as const satisfies Readonly<Record<string, number>>;
