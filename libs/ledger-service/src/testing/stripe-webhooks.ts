import { stripeSignatureHeader } from '../payment-webhooks/stripe-signature';
import type { HttpResult, LedgerTestApp } from './ledger-test-app';

/** The endpoint signing secret the webhook specs configure (PAYMENT_WEBHOOK_SECRET). */
export const TEST_WEBHOOK_SECRET = 'whsec_4tQ9mZc2Lr8VnX1bKp7YdE3sHf6JwG0u';

const API_VERSION = '2025-03-31.basil';
let counter = 0;
/** A Stripe-looking id: prefix and 24 base62 characters, unique within the test run. */
export function stripeId(prefix: 'evt' | 'in' | 'sub' | 'cus' | 'si' | 'il' | 'price' | 'pi', seed = ++counter): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let n = seed * 7919 + 1_000_003, i = 0; i < 24; i++, n = (n * 48271) % 2_147_483_647) s += alphabet[n % 62];
  return `${prefix}_1Qp${s.slice(3)}`;
}

const seconds = (t: LedgerTestApp) => Math.floor(t.clock.now().getTime() / 1000);

/** Where an invoice carries our customer id: on its subscription (as Stripe copies it, new and old API versions) or on the invoice. */
export type CustomerMapping = 'subscription' | 'legacy-subscription' | 'invoice' | 'none';

export interface InvoiceEventOptions {
  readonly customerId?: string;
  readonly invoiceId?: string;
  readonly eventId?: string;
  readonly mapping?: CustomerMapping;
  readonly attempt?: number;
}

/**
 * An `invoice.payment_failed` or `invoice.paid` event as Stripe sends it for
 * a subscription invoice (API 2025-03-31.basil: the subscription's metadata
 * under `parent.subscription_details`), trimmed of nothing the ledger reads.
 */
export function invoiceEvent(t: LedgerTestApp, type: 'invoice.payment_failed' | 'invoice.paid', o: InvoiceEventOptions = {}) {
  const created = seconds(t);
  const customerId = o.customerId ?? 'acme';
  const mapping = o.mapping ?? 'subscription';
  const subscription = stripeId('sub', 1);
  const ours = { customer_id: customerId, plan_sku: 'ANL-PRO' };
  const paid = type === 'invoice.paid';
  return {
    id: o.eventId ?? stripeId('evt'),
    object: 'event',
    api_version: API_VERSION,
    created,
    data: {
      object: {
        id: o.invoiceId ?? stripeId('in'),
        object: 'invoice',
        account_country: 'DE',
        account_name: 'Example Software GmbH',
        amount_due: 14700,
        amount_paid: paid ? 14700 : 0,
        amount_remaining: paid ? 0 : 14700,
        attempt_count: o.attempt ?? 1,
        attempted: true,
        auto_advance: !paid,
        billing_reason: 'subscription_cycle',
        collection_method: 'charge_automatically',
        created: created - 3600,
        currency: 'eur',
        customer: stripeId('cus', 2),
        customer_email: 'billing@acme.example',
        customer_name: 'ACME Corp',
        hosted_invoice_url: 'https://invoice.stripe.com/i/acct_1Qp/test_YWNjdF8xUXA',
        lines: {
          object: 'list',
          data: [
            {
              id: stripeId('il', 3),
              object: 'line_item',
              amount: 14700,
              currency: 'eur',
              description: '3 × Analytics Pro (at €49.00 / month)',
              parent: { type: 'subscription_item_details', subscription_item_details: { subscription, subscription_item: stripeId('si', 4), proration: false } },
              period: { start: created - 3600, end: created + 30 * 86_400 },
              pricing: { type: 'price_details', price_details: { price: stripeId('price', 5), product: 'prod_AnalyticsPro' }, unit_amount_decimal: '4900' },
              quantity: 3,
            },
          ],
          has_more: false,
          total_count: 1,
          url: '/v1/invoices/in_/lines',
        },
        livemode: false,
        metadata: mapping === 'invoice' ? ours : {},
        next_payment_attempt: paid ? null : created + 3 * 86_400,
        number: 'EXS-0042',
        parent: {
          quote_details: null,
          subscription_details: { metadata: mapping === 'subscription' ? ours : {}, subscription },
          type: 'subscription_details',
        },
        ...(mapping === 'legacy-subscription' ? { subscription_details: { metadata: ours }, subscription } : {}),
        period_end: created,
        period_start: created - 30 * 86_400,
        status: paid ? 'paid' : 'open',
        status_transitions: { finalized_at: created - 3600, marked_uncollectible_at: null, paid_at: paid ? created : null, voided_at: null },
        subtotal: 14700,
        total: 14700,
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

/** `customer.subscription.deleted` for a subscription whose metadata names the entitlement it pays for. */
export function subscriptionDeletedEvent(t: LedgerTestApp, metadata: Record<string, string>, eventId = stripeId('evt')) {
  const created = seconds(t);
  return {
    id: eventId,
    object: 'event',
    api_version: API_VERSION,
    created,
    data: {
      object: {
        id: stripeId('sub'),
        object: 'subscription',
        application: null,
        billing_cycle_anchor: created - 90 * 86_400,
        cancel_at: null,
        cancel_at_period_end: false,
        canceled_at: created,
        cancellation_details: { comment: null, feedback: 'too_expensive', reason: 'cancellation_requested' },
        collection_method: 'charge_automatically',
        created: created - 90 * 86_400,
        currency: 'eur',
        customer: stripeId('cus', 2),
        ended_at: created,
        items: {
          object: 'list',
          data: [{ id: stripeId('si'), object: 'subscription_item', current_period_end: created, current_period_start: created - 30 * 86_400, price: { id: stripeId('price', 5), object: 'price', lookup_key: 'ANL-PRO', product: 'prod_AnalyticsPro', unit_amount: 4900 }, quantity: 3 }],
          has_more: false,
          total_count: 1,
          url: '/v1/subscription_items?subscription=sub_',
        },
        livemode: false,
        metadata,
        status: 'canceled',
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.subscription.deleted',
  };
}

export interface DeliveryOptions {
  readonly secret?: string;
  /** Signing time (unix seconds); default the test clock's now. */
  readonly signedAt?: number;
  /** A Stripe-Signature header to send instead of a computed one (null: none). */
  readonly signature?: string | null;
  /** Default `application/json; charset=utf-8`, as Stripe sends it. */
  readonly contentType?: string;
}

/** POSTs an event to the webhook endpoint as Stripe does: the exact JSON bytes, signed. */
export function deliver(t: LedgerTestApp, event: object | string, o: DeliveryOptions = {}): Promise<HttpResult> {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const signature = o.signature !== undefined ? o.signature : stripeSignatureHeader(o.secret ?? TEST_WEBHOOK_SECRET, o.signedAt ?? seconds(t), body);
  return t.http('POST', '/v1/webhooks/payments', body, {
    'content-type': o.contentType ?? 'application/json; charset=utf-8',
    'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    ...(signature !== null ? { 'stripe-signature': signature } : {}),
  });
}
