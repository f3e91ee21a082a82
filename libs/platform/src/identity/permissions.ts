import type { Role } from './principal';

/**
 * The permission matrix: every route declares one of these (`@Access`), and
 * this table says which roles hold it. It is printed in the README and tested
 * as a table (every route × every role). Customer roles and a `service` with
 * listed customers are further limited to their customers' resources: another
 * customer's resource answers 404.
 */
export const PERMISSIONS = {
  'orders:place': ['admin', 'operator', 'erp'],
  'orders:read': ['admin', 'operator', 'erp', 'auditor'],
  'entitlements:grant': ['admin', 'operator'],
  'entitlements:manage': ['admin', 'operator'],
  'entitlements:read': ['admin', 'operator', 'auditor', 'service', 'customer-admin', 'customer-user'],
  'seats:manage': ['admin', 'operator', 'customer-admin'],
  'devices:manage': ['admin', 'operator', 'customer-admin'],
  'access-requests:create': ['admin', 'operator', 'customer-admin', 'customer-user'],
  'access-requests:read': ['admin', 'operator', 'auditor', 'customer-admin', 'customer-user'],
  'access-requests:decide': ['admin', 'operator'],
  'tokens:issue': ['admin', 'operator', 'service', 'customer-admin', 'customer-user'],
  'catalog:read': ['admin', 'operator', 'erp', 'service', 'auditor', 'customer-admin', 'customer-user'],
  'usage:report': ['admin', 'operator', 'service'],
  'usage:read': ['admin', 'operator', 'auditor', 'service', 'customer-admin', 'customer-user'],
  'usage:correct': ['admin', 'operator'],
  'usage:export': ['admin', 'operator', 'auditor', 'customer-admin'],
  'checks:run': ['admin', 'operator', 'service', 'customer-admin', 'customer-user'],
  'view:read': ['admin', 'operator', 'service', 'auditor'],
  'api-keys:manage': ['admin'],
  'api-keys:read': ['admin', 'auditor'],
  'metrics:read': ['admin', 'operator', 'auditor'],
  /** The audit log: history, tree heads, proofs, decisions and their replay (read-only). */
  'audit:read': ['admin', 'operator', 'auditor'],
  /** Exports with proofs; a customer admin gets only its own customer's events. */
  'audit:export': ['admin', 'operator', 'auditor', 'customer-admin'],
  /** Who the caller is (`GET /v1/me`): every credential may read its own principal and permissions. */
  'session:read': ['admin', 'operator', 'erp', 'service', 'auditor', 'customer-admin', 'customer-user'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function permits(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** Every permission a role holds, in the table's order. */
export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(PERMISSIONS) as Permission[]).filter((p) => permits(role, p));
}
