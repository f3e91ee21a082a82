import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decideAccessRequest, DomainError, evolveAccessRequest, resolveSku } from '@el/domain';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { assertSeesCustomer, assertSeesEntitlement } from '../infrastructure/visibility';
import { Clock, IdGenerator } from '@el/platform';
import { AccessRequestRepository, type AccessRequestResult } from '../access-requests/access-request.repository';
import { writeOptions } from '../entitlements/entitlement-use-case';
import { CatalogService } from '../infrastructure/catalog.service';
import { commandMetadata } from '../infrastructure/command-metadata';
import { assertSameRequest } from '../infrastructure/event-streams';
import { RequestAccessCommand } from './request-access.command';

@CommandHandler(RequestAccessCommand)
export class RequestAccessHandler implements ICommandHandler<RequestAccessCommand, AccessRequestResult> {
  constructor(
    private readonly requests: AccessRequestRepository,
    private readonly catalog: CatalogService,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly entitlements: EntitlementRepository,
  ) {}

  async execute(c: RequestAccessCommand): Promise<AccessRequestResult> {
    const viewer = c.context.principal;
    assertSeesCustomer(viewer, c.customerId);
    if (c.entitlementId !== undefined) {
      // The entitlement an add-on extends or whose plan changes: the customer's own (another's, or one this
      // principal cannot see, is as if it did not exist), and of the product the SKU belongs to.
      const { state } = await this.entitlements.load(c.entitlementId);
      if (state.status === 'none' || state.customerId !== c.customerId) throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${c.entitlementId} of customer ${c.customerId} does not exist`);
      assertSeesEntitlement(viewer, c.entitlementId, state.customerId);
      const resolved = resolveSku(this.catalog.current().catalog, c.sku);
      if (resolved && resolved.product.id !== state.productId) {
        const code = resolved.kind === 'add_on' ? 'ADD_ON.PRODUCT_MISMATCH' : 'PLAN.PRODUCT_MISMATCH';
        throw new DomainError(code, `${c.sku} is for product ${resolved.product.id}, not ${state.productId} (entitlement ${c.entitlementId}); leave out the entitlement to ask for a new one`, { sku: c.sku, productId: resolved.product.id, entitlementProductId: state.productId });
      }
    }
    const { commandId, requestHash } = writeOptions(c.context, this.ids);
    const loaded = await this.requests.load(c.requestId);
    const already = this.requests.writtenBy(loaded, commandId);
    if (already.length > 0 && loaded.state.status !== 'none') {
      assertSameRequest(already, requestHash, { requestId: c.requestId });
      return { requestId: c.requestId, status: loaded.state.status, revision: already[0]!.revision, position: already[0]!.position, replayed: true };
    }
    const events = decideAccessRequest(
      {
        type: 'RequestAccess',
        data: {
          requestId: c.requestId,
          customerId: c.customerId,
          sku: c.sku,
          quantity: c.quantity,
          reason: c.reason,
          requestedBy: c.context.principal.id,
          ...(c.entitlementId ? { entitlementId: c.entitlementId } : {}),
          catalog: this.catalog.current(),
        },
        metadata: commandMetadata(c.context, this.clock),
      },
      loaded.state,
    );
    const appended = await this.requests.append(loaded, events, commandId);
    const state = events.reduce(evolveAccessRequest, loaded.state);
    return { requestId: c.requestId, status: state.status === 'none' ? 'pending' : state.status, revision: appended.revision, position: appended.position, replayed: appended.duplicate };
  }
}
