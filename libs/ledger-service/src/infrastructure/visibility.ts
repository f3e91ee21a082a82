import { DomainError } from '@el/domain';
import { seesCustomer, validationFailed, type Principal } from '@el/platform';
import { LedgerError } from '../ledger.errors';

/**
 * What a principal may see: customer roles one customer, a `service` key its
 * listed customers, everyone else all. Another customer's resource answers
 * exactly as a resource that does not exist (404), so nothing leaks.
 */
export function assertSeesEntitlement(viewer: Principal, entitlementId: string, customerId: string): void {
  if (!seesCustomer(viewer, customerId)) throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${entitlementId} does not exist`);
}

export function assertSeesAccessRequest(viewer: Principal, requestId: string, customerId: string): void {
  if (!seesCustomer(viewer, customerId)) throw new DomainError('ACCESS_REQUEST.NOT_FOUND', `access request ${requestId} does not exist`);
}

export function assertSeesCustomer(viewer: Principal, customerId: string): void {
  if (!seesCustomer(viewer, customerId)) throw new LedgerError('CUSTOMER.NOT_FOUND', `customer ${customerId} owns nothing yet`);
}

/**
 * The customer a list is limited to: the one asked for (if visible), the
 * viewer's only customer when it has one, none for a viewer who sees all.
 */
export function customerFilter(viewer: Principal, requested: string | undefined): { customerId?: string } {
  if (requested !== undefined) {
    assertSeesCustomer(viewer, requested);
    return { customerId: requested };
  }
  if (viewer.customers === null) return {};
  if (viewer.customers.length === 1) return { customerId: viewer.customers[0]! };
  throw validationFailed([{ path: 'query.customerId', message: 'query.customerId is required: this credential sees several customers, one list at a time', constraint: 'required' }]);
}

/** The customers a search across customers is limited to: the viewer's own, or null for a viewer who sees all. */
export function visibleCustomers(viewer: Principal): readonly string[] | null {
  return viewer.customers;
}
