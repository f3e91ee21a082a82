/**
 * Who is asking: established from a verified credential (an API key or an
 * operator's OIDC token), never from a header the caller writes.
 */
export const ROLES = ['admin', 'operator', 'erp', 'service', 'auditor', 'customer-admin', 'customer-user'] as const;
export type Role = (typeof ROLES)[number];

/** Roles bound to exactly one customer. */
export const CUSTOMER_ROLES: readonly Role[] = ['customer-admin', 'customer-user'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Principal {
  /** Stable id recorded as the actor of every event it causes: `key:<keyId>`, `oidc:<subject>`, `system:<reason>`. */
  readonly id: string;
  readonly kind: 'api-key' | 'oidc' | 'system';
  readonly role: Role;
  /** A display name (the key's name, the token's name or email claim). */
  readonly name: string;
  /**
   * The customers it may see: exactly one for customer roles, an optional list
   * for `service`, `null` (all) for the others.
   */
  readonly customers: readonly string[] | null;
}

/** The principal of work the ledger starts on its own (expiry sweeps, recovery, webhooks). */
export function systemPrincipal(reason: string): Principal {
  return { id: `system:${reason}`, kind: 'system', role: 'admin', name: reason, customers: null };
}

/** Whether the principal may see this customer's resources (otherwise they answer 404: no existence leak). */
export function seesCustomer(principal: Principal, customerId: string): boolean {
  return principal.customers === null || principal.customers.includes(customerId);
}

/** The actor type recorded on events for a role. */
export function actorTypeOf(principal: Principal): 'operator' | 'erp' | 'service' | 'user' | 'system' {
  if (principal.kind === 'system') return 'system';
  switch (principal.role) {
    case 'erp':
      return 'erp';
    case 'service':
      return 'service';
    case 'customer-admin':
    case 'customer-user':
      return 'user';
    default:
      return 'operator';
  }
}
