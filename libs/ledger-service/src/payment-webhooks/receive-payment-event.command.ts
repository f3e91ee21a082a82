import { Command } from '@nestjs/cqrs';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { StripeEvent } from './stripe-event';

/** What became of one delivery of a payment gateway event. */
export class PaymentEventOutcome {
  @ApiProperty({ example: 'evt_1QpX2bLkdIwHu7ix0a9Bc3De' }) eventId!: string;
  @ApiProperty({ example: 'invoice.payment_failed' }) type!: string;
  @ApiProperty({
    enum: ['applied', 'replayed', 'unchanged'],
    description: 'applied: the ledger recorded it (and did what fell due); replayed: this event id was handled before, nothing new was written; unchanged: nothing to record (e.g. a payment of an invoice already recorded paid, a subscription whose entitlement was already revoked)',
  })
  outcome!: 'applied' | 'replayed' | 'unchanged';
  @ApiPropertyOptional({ description: 'The ledger customer the event concerns' }) customerId?: string;
  @ApiPropertyOptional({ description: 'The entitlement revoked by customer.subscription.deleted' }) entitlementId?: string;
  @ApiProperty({ type: [String], description: 'Event types written, dunning and entitlement events alike, e.g. InvoicePaymentFailed, EntitlementSuspended, DunningSuspended' }) events!: readonly string[];
  @ApiProperty({ description: 'Global position of the last event written (or recorded for this event id): pass as minPosition to read the change' }) position!: number;
}

/** A payment gateway event whose signature has been verified: record it and carry out what it implies. */
export class ReceivePaymentEventCommand extends Command<PaymentEventOutcome> {
  constructor(readonly event: StripeEvent) {
    super();
  }
}
