import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { KeepRawBody, rawBodyOf, SignedRequest } from '@el/platform';
import { PaymentWebhookVerifier } from './payment-webhook-verifier';
import { PaymentEventOutcome, ReceivePaymentEventCommand } from './receive-payment-event.command';
import { STRIPE_EVENT_TYPES } from './stripe-event';
import { STRIPE_SIGNATURE_HEADER } from './stripe-signature';

@ApiTags('webhooks')
@Controller('v1/webhooks')
export class PaymentWebhooksController {
  constructor(
    private readonly commands: CommandBus,
    private readonly verifier: PaymentWebhookVerifier,
  ) {}

  @Post('payments')
  @HttpCode(200)
  // Authenticated by the Stripe signature (the endpoint's signing secret), not by an API key or token.
  @SignedRequest('Stripe-Signature: HMAC-SHA256 of the body under PAYMENT_WEBHOOK_SECRET')
  // The signature covers the body's exact bytes.
  @KeepRawBody()
  @ApiOperation({
    summary: 'Payment gateway webhook (Stripe): failed and paid invoices drive dunning, a deleted subscription revokes its entitlement',
    description: [
      `Handles ${STRIPE_EVENT_TYPES.join(', ')}; any other type is refused (422 WEBHOOK.UNSUPPORTED_EVENT).`,
      'invoice.payment_failed: after PAYMENT_DUNNING_GRACE_HOURS with the invoice still unpaid, the customer\'s active entitlements are suspended with reason payment_failed.',
      'invoice.paid: once nothing is unpaid, a pending suspension is off and the entitlements dunning suspended (only those) are reinstated.',
      'customer.subscription.deleted: the entitlement named by the subscription\'s metadata.entitlement_id is revoked (reason subscription_deleted).',
      'Invoices name the ledger customer in metadata.customer_id, on the invoice or on its subscription (parent.subscription_details.metadata / subscription_details.metadata).',
      'Each event id is applied once: a redelivery answers outcome "replayed" and writes nothing.',
    ].join(' '),
  })
  @ApiHeader({
    name: 'Stripe-Signature',
    required: true,
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the endpoint signing secret> (several v1 entries allowed); the timestamp must be within PAYMENT_WEBHOOK_TOLERANCE_SECONDS of the ledger clock',
    schema: { type: 'string', example: 't=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd' },
  })
  @ApiBody({
    description: 'A Stripe event, exactly as Stripe sends it',
    schema: {
      type: 'object',
      required: ['id', 'object', 'type', 'created', 'data'],
      properties: {
        id: { type: 'string', example: 'evt_1QpX2bLkdIwHu7ix0a9Bc3De' },
        object: { type: 'string', enum: ['event'] },
        api_version: { type: 'string', example: '2025-03-31.basil' },
        created: { type: 'integer', description: 'Unix seconds' },
        type: { type: 'string', enum: [...STRIPE_EVENT_TYPES] },
        data: { type: 'object', properties: { object: { type: 'object', description: 'The invoice or subscription', additionalProperties: true } } },
      },
    },
  })
  @ApiOkResponse({ type: PaymentEventOutcome })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a signed body that is not a Stripe event of the expected shape' })
  @ApiUnauthorizedResponse({ description: 'WEBHOOK.BAD_SIGNATURE (missing, malformed or not matching), WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE (a replayed or delayed delivery)' })
  @ApiNotFoundResponse({ description: 'ENTITLEMENT.NOT_FOUND: the subscription names an entitlement the ledger does not have' })
  @ApiConflictResponse({ description: 'ENTITLEMENT.CUSTOMER_MISMATCH: the subscription names a customer the entitlement does not belong to' })
  @ApiUnprocessableEntityResponse({ description: 'WEBHOOK.UNSUPPORTED_EVENT, WEBHOOK.NO_CUSTOMER (an invoice without metadata.customer_id), WEBHOOK.NO_ENTITLEMENT (a subscription without metadata.entitlement_id)' })
  @ApiServiceUnavailableResponse({ description: 'WEBHOOK.NOT_CONFIGURED: no signing secret is configured' })
  receive(
    @Req() request: FastifyRequest,
    @Headers(STRIPE_SIGNATURE_HEADER) signature: string | undefined,
    // Not read (the event is read from the verified bytes); declared so that the edge's rules for every body apply here too (nesting depth).
    @Body() _parsed: unknown,
  ): Promise<PaymentEventOutcome> {
    const event = this.verifier.verify(signature, rawBodyOf(request));
    return this.commands.execute(new ReceivePaymentEventCommand(event));
  }
}
