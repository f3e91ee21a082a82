import { resolveSku, type PublishedCatalog } from '../catalog/catalog';
import type { EntitlementCommand } from '../entitlement/entitlement.commands';
import { assertNever, type CommandMetadata } from '../shared/envelope';
import type { ErpOrder, OrderLine } from './order';

/**
 * Translates one order line into the entitlement commands that fulfil it, in
 * order. `newEntitlementId` is used by `new` lines (the caller derives it
 * deterministically from orderId + lineId, so a retried order targets the same
 * entitlement). Returns the entitlement the line acts on and its commands.
 */
export function commandsForOrderLine(
  order: ErpOrder,
  line: OrderLine,
  catalog: PublishedCatalog,
  newEntitlementId: string,
  meta: CommandMetadata,
): { entitlementId: string; commands: EntitlementCommand[] } {
  const lineMeta: CommandMetadata = { ...meta, effectiveAt: order.effectiveAt };
  const fromOrder = { orderId: order.orderId, customerId: order.customerId };
  const existing = line.entitlementId ?? newEntitlementId;
  switch (line.action) {
    case 'new':
      return {
        entitlementId: newEntitlementId,
        commands: [
          {
            type: 'GrantEntitlement',
            data: {
              entitlementId: newEntitlementId,
              customerId: order.customerId,
              catalog,
              sku: line.sku,
              quantity: line.quantity,
              validFrom: order.effectiveAt,
              origin: { kind: 'order', orderId: order.orderId, lineId: line.lineId },
            },
            metadata: lineMeta,
          },
        ],
      };
    case 'renew': {
      // A renewal's quantity is the number of units renewed: it re-sizes the seats too.
      const resolved = resolveSku(catalog.catalog, line.sku);
      const seatsPerUnit = resolved?.kind === 'plan' ? resolved.plan.seatsPerUnit : 1;
      return {
        entitlementId: existing,
        commands: [
          { type: 'RenewEntitlement', data: { ...fromOrder, periods: 1 }, metadata: lineMeta },
          { type: 'ChangeSeats', data: { ...fromOrder, seats: line.quantity * seatsPerUnit }, metadata: lineMeta },
        ],
      };
    }
    case 'upgrade':
    case 'downgrade':
      return {
        entitlementId: existing,
        commands: [
          {
            type: 'ChangePlan',
            data: { ...fromOrder, catalog, sku: line.sku, quantity: line.quantity, direction: line.action },
            metadata: lineMeta,
          },
        ],
      };
    case 'add_on':
      return {
        entitlementId: existing,
        commands: [{ type: 'AttachAddOn', data: { ...fromOrder, catalog, sku: line.sku, quantity: line.quantity }, metadata: lineMeta }],
      };
    case 'cancel': {
      // Cancelling an add-on SKU detaches the add-on; cancelling a plan SKU ends the entitlement.
      const resolved = resolveSku(catalog.catalog, line.sku);
      const reason = `cancelled by order ${order.orderId} line ${line.lineId}`;
      return {
        entitlementId: existing,
        commands: [
          resolved?.kind === 'add_on'
            ? { type: 'DetachAddOn', data: { ...fromOrder, sku: line.sku, reason }, metadata: lineMeta }
            : { type: 'RevokeEntitlement', data: { ...fromOrder, reason }, metadata: lineMeta },
        ],
      };
    }
    default:
      return assertNever(line.action, 'order action');
  }
}
