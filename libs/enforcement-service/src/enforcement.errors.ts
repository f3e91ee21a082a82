/**
 * The enforcement service's error table: the one place where its codes become
 * HTTP statuses (checks themselves never fail: they answer with a decision).
 */
export const enforcementErrorTable = {
  /** GET /v1/view/entitlements/:id for an entitlement the view does not hold (yet). */
  'ENTITLEMENT.NOT_FOUND': 404,
  /** A check or view read for a customer the credential may not see (as if it did not exist). */
  'CUSTOMER.NOT_FOUND': 404,
  /** A check or view read for a customer whose partition another shard holds (VIEW_PARTITIONS): ask that one. */
  'VIEW.NOT_HELD': 421,
} as const satisfies Readonly<Record<string, number>>;
