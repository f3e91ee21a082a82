import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '@el/domain';
import type { EntitlementWriteResult } from '../entitlements/entitlement-changes';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { systemContext } from '../infrastructure/command-metadata';
import { LedgerError } from '../ledger.errors';
import { RevokeEntitlementCommand } from '../revoke-entitlement/revoke-entitlement.command';
import { DunningProcess, PAYMENT_GATEWAY, type DunningOutcome } from './dunning-process';
import { PaymentEventOutcome, ReceivePaymentEventCommand } from './receive-payment-event.command';
import { customerOfInvoice, entitlementOfSubscription, invoiceOf, isSupported, STRIPE_EVENT_TYPES, subscriptionOf, type StripeEvent } from './stripe-event';

/** The reason recorded on an entitlement revoked because its subscription ended at the gateway. */
export const SUBSCRIPTION_DELETED = 'subscription_deleted';

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

/**
 * invoice.payment_failed and invoice.paid go to the customer's dunning;
 * customer.subscription.deleted revokes the entitlement the subscription
 * names, through the Revoke command, keyed by the gateway event id (a
 * redelivery replays). Any other type is refused: the endpoint is
 * subscribed to more than the ledger handles.
 */
@CommandHandler(ReceivePaymentEventCommand)
export class ReceivePaymentEventHandler implements ICommandHandler<ReceivePaymentEventCommand, PaymentEventOutcome> {
  constructor(
    private readonly dunning: DunningProcess,
    private readonly entitlements: EntitlementRepository,
    private readonly commands: CommandBus,
  ) {}

  async execute({ event }: ReceivePaymentEventCommand): Promise<PaymentEventOutcome> {
    if (!isSupported(event.type)) {
      throw new LedgerError('WEBHOOK.UNSUPPORTED_EVENT', `the ledger does not handle ${event.type} events: send it only ${STRIPE_EVENT_TYPES.join(', ')}`, {
        eventId: event.id,
        type: event.type,
        supported: STRIPE_EVENT_TYPES,
      });
    }
    switch (event.type) {
      case 'invoice.payment_failed': {
        const invoice = invoiceOf(event);
        const customerId = customerOfInvoice(event, invoice);
        return outcomeOf(event, await this.dunning.paymentFailed({ customerId, invoiceId: invoice.id, gatewayEventId: event.id, failedAt: iso(event.created) }));
      }
      case 'invoice.paid': {
        const invoice = invoiceOf(event);
        const customerId = customerOfInvoice(event, invoice);
        const paidAt = iso(invoice.status_transitions?.paid_at ?? event.created);
        return outcomeOf(event, await this.dunning.invoicePaid({ customerId, invoiceId: invoice.id, gatewayEventId: event.id, paidAt }));
      }
      case 'customer.subscription.deleted':
        return this.revoke(event);
    }
  }

  private async revoke(event: StripeEvent): Promise<PaymentEventOutcome> {
    const { entitlementId, customerId } = entitlementOfSubscription(event, subscriptionOf(event));
    const { state } = await this.entitlements.load(entitlementId);
    if (state.status !== 'none' && state.customerId !== customerId) {
      throw new DomainError('ENTITLEMENT.CUSTOMER_MISMATCH', `subscription metadata names customer ${customerId}, but entitlement ${entitlementId} belongs to another customer`, { entitlementId, customerId });
    }
    const correlationId = `${PAYMENT_GATEWAY}:${event.id}`;
    const base = { eventId: event.id, type: event.type, entitlementId, customerId };
    try {
      const r: EntitlementWriteResult = await this.commands.execute(
        new RevokeEntitlementCommand(entitlementId, SUBSCRIPTION_DELETED, { ...systemContext(PAYMENT_GATEWAY, correlationId), idempotencyKey: correlationId }),
      );
      return { ...base, outcome: r.replayed ? 'replayed' : r.events.length > 0 ? 'applied' : 'unchanged', events: r.replayed ? [] : r.events, position: r.position };
    } catch (err) {
      // Revoked already (by an operator, or by another subscription): what the event asks for holds.
      if (err instanceof DomainError && err.code === 'ENTITLEMENT.ALREADY_REVOKED') {
        const loaded = await this.entitlements.load(entitlementId);
        return { ...base, outcome: 'unchanged', events: [], position: loaded.position };
      }
      throw err;
    }
  }
}

function outcomeOf(event: StripeEvent, r: DunningOutcome): PaymentEventOutcome {
  return {
    eventId: event.id,
    type: event.type,
    outcome: r.replayed && r.events.length === 0 ? 'replayed' : r.events.length > 0 ? 'applied' : 'unchanged',
    customerId: r.customerId,
    events: r.events,
    position: r.position,
  };
}
