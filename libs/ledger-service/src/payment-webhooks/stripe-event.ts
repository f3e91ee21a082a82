import { ID_SCHEMA } from '@el/contracts';
import { compileSchema, validationFailed, type FieldError } from '@el/platform';
import { LedgerError } from '../ledger.errors';

/**
 * The parts of Stripe's webhook events the ledger reads. Stripe sends much
 * more (and adds fields over API versions): everything else is ignored, and
 * what is read is bounded.
 *
 * Mapping to the ledger (set by whoever creates the Stripe objects, e.g. the
 * ERP or the checkout integration):
 * - invoices name the ledger customer in `metadata.customer_id` — on the
 *   invoice itself, or on the subscription that generated it, which Stripe
 *   copies onto the invoice as `parent.subscription_details.metadata`
 *   (API 2025-03-31 "basil" and later) or `subscription_details.metadata`
 *   (earlier versions);
 * - subscriptions name the entitlement they pay for in
 *   `metadata.entitlement_id` and its customer in
 *   `metadata.customer_id`, which must be the entitlement's).
 * Stripe's own customer id (`cus_…`) is not ours and is not used.
 */
export const STRIPE_EVENT_TYPES = ['invoice.payment_failed', 'invoice.paid', 'customer.subscription.deleted'] as const;
export type StripeEventType = (typeof STRIPE_EVENT_TYPES)[number];

type Metadata = Readonly<Record<string, string>> | null | undefined;

export interface StripeEvent {
  readonly id: string;
  readonly type: string;
  /** Unix seconds: when the event happened at Stripe. */
  readonly created: number;
  readonly data: { readonly object: Readonly<Record<string, unknown>> };
}

export interface StripeInvoice {
  readonly id: string;
  readonly customer?: string | null;
  readonly metadata?: Metadata;
  readonly subscription_details?: { readonly metadata?: Metadata } | null;
  readonly parent?: { readonly subscription_details?: { readonly metadata?: Metadata } | null } | null;
  readonly status_transitions?: { readonly paid_at?: number | null } | null;
}

export interface StripeSubscription {
  readonly id: string;
  readonly customer?: string | null;
  readonly metadata?: Metadata;
}

/** Stripe metadata: up to 50 keys of strings of at most 500 characters. */
const metadataSchema = { type: ['object', 'null'], maxProperties: 50, additionalProperties: { type: 'string', maxLength: 500 } } as const;
const stripeId = { type: 'string', minLength: 1, maxLength: 255 } as const;

const eventSchema = compileSchema({
  type: 'object',
  required: ['id', 'object', 'type', 'created', 'data'],
  properties: {
    id: ID_SCHEMA,
    object: { const: 'event' },
    type: { type: 'string', minLength: 1, maxLength: 100 },
    created: { type: 'integer', minimum: 0, maximum: 99_999_999_999 },
    data: { type: 'object', required: ['object'], properties: { object: { type: 'object' } } },
  },
});

const invoiceSchema = compileSchema({
  type: 'object',
  required: ['id'],
  properties: {
    id: ID_SCHEMA,
    object: { const: 'invoice' },
    customer: { anyOf: [stripeId, { type: 'null' }, { type: 'object' }] },
    metadata: metadataSchema,
    subscription_details: { type: ['object', 'null'], properties: { metadata: metadataSchema } },
    parent: { type: ['object', 'null'], properties: { subscription_details: { type: ['object', 'null'], properties: { metadata: metadataSchema } } } },
    status_transitions: { type: ['object', 'null'], properties: { paid_at: { type: ['integer', 'null'], minimum: 0 } } },
  },
});

const subscriptionSchema = compileSchema({
  type: 'object',
  required: ['id'],
  properties: {
    id: stripeId,
    object: { const: 'subscription' },
    customer: { anyOf: [stripeId, { type: 'null' }, { type: 'object' }] },
    metadata: metadataSchema,
  },
});

const ID_PATTERN = new RegExp(ID_SCHEMA.pattern);

function check(problems: FieldError[], prefix: string): void {
  if (problems.length === 0) return;
  const whole = '(body)';
  throw validationFailed(
    problems.map((p) =>
      p.path === whole ? { ...p, path: prefix, message: p.message.replace(whole, prefix) } : { ...p, path: `${prefix}.${p.path}`, message: `${prefix}.${p.message}` },
    ),
  );
}

/** The verified body as a Stripe event (400 VALIDATION_FAILED with paths when it is not one). */
export function parseStripeEvent(body: Buffer): StripeEvent {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw validationFailed([{ path: '(body)', message: 'the body is not JSON', constraint: 'json' }]);
  }
  const problems = eventSchema(value);
  if (problems.length > 0) throw validationFailed(problems);
  return value as StripeEvent;
}

export function isSupported(type: string): type is StripeEventType {
  return (STRIPE_EVENT_TYPES as readonly string[]).includes(type);
}

export function invoiceOf(event: StripeEvent): StripeInvoice {
  check(invoiceSchema(event.data.object), 'data.object');
  return event.data.object as unknown as StripeInvoice;
}

export function subscriptionOf(event: StripeEvent): StripeSubscription {
  check(subscriptionSchema(event.data.object), 'data.object');
  return event.data.object as unknown as StripeSubscription;
}

/** Where an invoice may name our customer, in the order they are read. */
export const INVOICE_CUSTOMER_PATHS = ['metadata.customer_id', 'parent.subscription_details.metadata.customer_id', 'subscription_details.metadata.customer_id'] as const;

/** The ledger customer an invoice is for (422 WEBHOOK.NO_CUSTOMER when it names none). */
export function customerOfInvoice(event: StripeEvent, invoice: StripeInvoice): string {
  const candidates = [invoice.metadata?.['customer_id'], invoice.parent?.subscription_details?.metadata?.['customer_id'], invoice.subscription_details?.metadata?.['customer_id']];
  const index = candidates.findIndex((c) => c !== undefined && c !== '');
  if (index < 0) {
    throw new LedgerError('WEBHOOK.NO_CUSTOMER', `invoice ${invoice.id} does not name a ledger customer: set metadata.customer_id on the invoice or on its subscription`, {
      eventId: event.id,
      invoiceId: invoice.id,
      ...(typeof invoice.customer === 'string' ? { stripeCustomer: invoice.customer } : {}),
      lookedAt: INVOICE_CUSTOMER_PATHS.map((p) => `data.object.${p}`),
    });
  }
  return asId(candidates[index]!, `data.object.${INVOICE_CUSTOMER_PATHS[index]}`);
}

/**
 * The entitlement a subscription pays for and its customer (422 WEBHOOK.NO_ENTITLEMENT or
 * WEBHOOK.NO_CUSTOMER when it names none): both are required, so metadata set on a stray
 * subscription cannot revoke another customer's entitlement.
 */
export function entitlementOfSubscription(event: StripeEvent, subscription: StripeSubscription): { entitlementId: string; customerId: string } {
  const entitlementId = subscription.metadata?.['entitlement_id'];
  if (entitlementId === undefined || entitlementId === '') {
    throw new LedgerError('WEBHOOK.NO_ENTITLEMENT', `subscription ${subscription.id} does not name a ledger entitlement: set metadata.entitlement_id on the subscription`, {
      eventId: event.id,
      subscriptionId: subscription.id,
      lookedAt: ['data.object.metadata.entitlement_id'],
    });
  }
  const customerId = subscription.metadata?.['customer_id'];
  if (customerId === undefined || customerId === '') {
    throw new LedgerError('WEBHOOK.NO_CUSTOMER', `subscription ${subscription.id} does not name the ledger customer of its entitlement: set metadata.customer_id on the subscription`, {
      eventId: event.id,
      subscriptionId: subscription.id,
      lookedAt: ['data.object.metadata.customer_id'],
    });
  }
  return { entitlementId: asId(entitlementId, 'data.object.metadata.entitlement_id'), customerId: asId(customerId, 'data.object.metadata.customer_id') };
}

function asId(value: string, path: string): string {
  if (!ID_PATTERN.test(value)) throw validationFailed([{ path, message: `${path} must be an identifier of the ledger (1-128 characters: letters, digits and . _ : @ -)`, constraint: 'pattern' }]);
  return value;
}
