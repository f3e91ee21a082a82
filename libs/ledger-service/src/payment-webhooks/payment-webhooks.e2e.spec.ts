import { ACCESS } from '@el/platform';
import { DunningSweeper } from './dunning-sweeper';
import { PaymentWebhooksController } from './payment-webhooks.http.controller';
import { stripeSignatureHeader } from './stripe-signature';
import { grantAsOperator, OPERATOR, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';
import { deliver, invoiceEvent, stripeId, subscriptionDeletedEvent, TEST_WEBHOOK_SECRET } from '../testing/stripe-webhooks';

const env = (graceHours: number) => ({ PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, PAYMENT_DUNNING_GRACE_HOURS: String(graceHours) });

describe('POST /v1/webhooks/payments (Stripe)', () => {
  let t: LedgerTestApp;
  afterEach(() => t?.close(true));

  const entitlement = async (id: string) => (await t.http('GET', `/v1/entitlements/${id}`)).body as { status: string; statusReason?: string };
  const statuses = async (...ids: string[]) => Promise.all(ids.map(async (id) => { const e = await entitlement(id); return [e.status, e.statusReason ?? null]; }));
  const suspend = (id: string, reason: string) => t.http('POST', `/v1/entitlements/${id}/suspend`, { reason }, OPERATOR);
  const reinstate = (id: string) => t.http('POST', `/v1/entitlements/${id}/reinstate`, {}, OPERATOR);
  const sweep = () => t.app.get(DunningSweeper).sweep();
  /** Event types appended after `position`, with the stream each went to. */
  const appendedSince = async (position: number) => (await t.eventsAfter(position)).map((e) => `${e.type} ${e.stream.replace(/-[0-9a-f-]{36}$/, '')}`);

  describe('with a grace of 72 hours', () => {
    beforeEach(async () => (t = await startLedgerApp({ env: env(72) })));

    it('suspends the customer\'s active entitlements with reason payment_failed once the grace has run out, not before', async () => {
      const [e1, e2] = [await grantAsOperator(t), await grantAsOperator(t, 'DSG-PRO', 1)];
      const other = await grantAsOperator(t, 'ANL-PRO', 1, OPERATOR);
      await t.http('POST', '/v1/entitlements', { customerId: 'globex', sku: 'ANL-PRO' }, OPERATOR);
      const failed = await deliver(t, invoiceEvent(t, 'invoice.payment_failed'));
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({ type: 'invoice.payment_failed', outcome: 'applied', customerId: 'acme', events: ['InvoicePaymentFailed'] });
      expect(await statuses(e1, e2)).toEqual([['active', null], ['active', null]]);

      // Two days later: still within the grace; the sweep changes nothing.
      t.clock.advanceDays(2);
      const before = await t.head();
      expect(await sweep()).toEqual([]);
      expect(await t.head()).toBe(before);

      // The third day ends the grace.
      t.clock.advanceDays(1);
      expect(await sweep()).toEqual(['acme']);
      expect(await statuses(e1, e2, other)).toEqual([['suspended', 'payment_failed'], ['suspended', 'payment_failed'], ['suspended', 'payment_failed']]);
      const written = await t.eventsAfter(before);
      expect(written.map((e) => e.type)).toEqual(['EntitlementSuspended', 'EntitlementSuspended', 'EntitlementSuspended', 'DunningSuspended']);
      expect(written.every((e) => (e.metadata['actor'] as { type: string; id: string }).id === 'payment-gateway' && e.metadata['source'] === 'system')).toBe(true);
      expect(written[3]!.data).toMatchObject({ customerId: 'acme', entitlementIds: expect.arrayContaining([e1, e2, other]) });
      // globex owes nothing and keeps its entitlement; a second sweep finds nothing to do.
      expect((await t.http('GET', '/v1/customers/globex/entitlements')).body.items.map((e: { status: string }) => e.status)).toEqual(['active']);
      const after = await t.head();
      expect(await sweep()).toEqual([]);
      expect(await t.head()).toBe(after);
    });

    it('a payment within the grace cancels the pending suspension', async () => {
      const e1 = await grantAsOperator(t);
      const invoiceId = stripeId('in');
      await deliver(t, invoiceEvent(t, 'invoice.payment_failed', { invoiceId }));
      t.clock.advanceDays(1);
      const paid = await deliver(t, invoiceEvent(t, 'invoice.paid', { invoiceId }));
      expect(paid.body).toMatchObject({ outcome: 'applied', events: ['InvoicePaid'] });
      t.clock.advanceDays(10);
      const before = await t.head();
      expect(await sweep()).toEqual([]);
      expect(await t.head()).toBe(before);
      expect(await statuses(e1)).toEqual([['active', null]]);
    });

    it('keeps the grace of the first failure when Stripe retries the payment, and waits for every failed invoice', async () => {
      const e1 = await grantAsOperator(t);
      const [first, second] = [stripeId('in'), stripeId('in')];
      await deliver(t, invoiceEvent(t, 'invoice.payment_failed', { invoiceId: first }));
      t.clock.advanceDays(2);
      // Smart Retries: the same invoice fails again (attempt 2), and a second invoice fails.
      expect((await deliver(t, invoiceEvent(t, 'invoice.payment_failed', { invoiceId: first, attempt: 2 }))).body.events).toEqual(['InvoicePaymentFailed']);
      await deliver(t, invoiceEvent(t, 'invoice.payment_failed', { invoiceId: second }));
      t.clock.advanceDays(1);
      expect(await sweep()).toEqual(['acme']);
      expect(await statuses(e1)).toEqual([['suspended', 'payment_failed']]);
      // One of two invoices paid: still suspended.
      expect((await deliver(t, invoiceEvent(t, 'invoice.paid', { invoiceId: first }))).body.events).toEqual(['InvoicePaid']);
      expect(await statuses(e1)).toEqual([['suspended', 'payment_failed']]);
      expect((await deliver(t, invoiceEvent(t, 'invoice.paid', { invoiceId: second }))).body.events).toEqual(['InvoicePaid', 'EntitlementReinstated', 'DunningReinstated']);
      expect(await statuses(e1)).toEqual([['active', null]]);
    });

    it('reads the customer from the invoice\'s own metadata and from subscription_details of older API versions', async () => {
      for (const mapping of ['invoice', 'legacy-subscription'] as const) {
        const res = await deliver(t, invoiceEvent(t, 'invoice.payment_failed', { customerId: `cust-${mapping}`, mapping }));
        expect({ mapping, status: res.status, customerId: res.body.customerId }).toEqual({ mapping, status: 200, customerId: `cust-${mapping}` });
      }
    });

    it('the grace survives a restart: the sweeper of the next process suspends', async () => {
      const e1 = await grantAsOperator(t);
      const failedAt = t.clock.now();
      await deliver(t, invoiceEvent(t, 'invoice.payment_failed'));
      await t.close();
      t = await startLedgerApp({ dataDir: t.dataDir, env: env(72), now: new Date(failedAt.getTime() + 72 * 3_600_000).toISOString() });
      expect(await sweep()).toEqual(['acme']);
      expect(await statuses(e1)).toEqual([['suspended', 'payment_failed']]);
    });

    it('a replayed delivery is a no-op: nothing is written again', async () => {
      const e1 = await grantAsOperator(t);
      const failure = invoiceEvent(t, 'invoice.payment_failed');
      await deliver(t, failure);
      t.clock.advanceDays(3);
      await sweep();
      const paid = invoiceEvent(t, 'invoice.paid', { invoiceId: failure.data.object.id });
      expect((await deliver(t, paid)).body.events).toEqual(['InvoicePaid', 'EntitlementReinstated', 'DunningReinstated']);
      const before = await t.head();
      // Stripe redelivers with a fresh signature (a new t): the event id makes it the same event.
      for (const event of [failure, paid]) {
        const again = await deliver(t, event);
        expect({ status: again.status, outcome: again.body.outcome, events: again.body.events }).toEqual({ status: 200, outcome: 'replayed', events: [] });
      }
      expect(await t.head()).toBe(before);
      expect(await statuses(e1)).toEqual([['active', null]]);
    });

    it('refuses a bad signature, an old timestamp, an unknown event type and an unmapped invoice, and changes nothing', async () => {
      const e1 = await grantAsOperator(t);
      const event = invoiceEvent(t, 'invoice.payment_failed');
      const body = JSON.stringify(event);
      const now = Math.floor(t.clock.now().getTime() / 1000);
      const before = await t.head();
      const refused = {
        'another secret': await deliver(t, event, { secret: 'whsec_someone_elses' }),
        'a body changed after signing': await deliver(t, body.replace('"attempt_count":1', '"attempt_count":2'), { signature: stripeSignatureHeader(TEST_WEBHOOK_SECRET, now, body) }),
        'no signature': await deliver(t, event, { signature: null }),
        'a malformed signature': await deliver(t, event, { signature: 'v1=abc' }),
        'signed 6 minutes ago': await deliver(t, event, { signedAt: now - 360 }),
        'an unknown event type': await deliver(t, { ...event, type: 'customer.created' }),
        'an invoice without customer_id': await deliver(t, invoiceEvent(t, 'invoice.payment_failed', { mapping: 'none' })),
        'a customer_id that is no ledger id': await deliver(t, invoiceEvent(t, 'invoice.payment_failed', { customerId: 'acme corp/eu' })),
        'not a Stripe event': await deliver(t, { id: 'evt_x', type: 'invoice.paid' }),
        'a body nested 100 levels deep': await deliver(t, '['.repeat(100) + ']'.repeat(100)),
        // Found by the hostile-bodies fuzz test (apps/embedded): the signed bytes were read whatever their content type.
        'signed, but sent as text/plain': await deliver(t, event, { contentType: 'text/plain' }),
      };
      expect(Object.fromEntries(Object.entries(refused).map(([k, r]) => [k, `${r.status} ${r.body.code}`]))).toEqual({
        'another secret': '401 WEBHOOK.BAD_SIGNATURE',
        'a body changed after signing': '401 WEBHOOK.BAD_SIGNATURE',
        'no signature': '401 WEBHOOK.BAD_SIGNATURE',
        'a malformed signature': '401 WEBHOOK.BAD_SIGNATURE',
        'signed 6 minutes ago': '401 WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE',
        'an unknown event type': '422 WEBHOOK.UNSUPPORTED_EVENT',
        'an invoice without customer_id': '422 WEBHOOK.NO_CUSTOMER',
        'a customer_id that is no ledger id': '400 VALIDATION_FAILED',
        'not a Stripe event': '400 VALIDATION_FAILED',
        'a body nested 100 levels deep': '400 VALIDATION_FAILED',
        'signed, but sent as text/plain': '415 UNSUPPORTED_MEDIA_TYPE',
      });
      expect(refused['an invoice without customer_id'].body.details.lookedAt).toContain('data.object.parent.subscription_details.metadata.customer_id');
      expect(refused['a customer_id that is no ledger id'].body.errors[0].path).toBe('data.object.parent.subscription_details.metadata.customer_id');
      expect(await t.head()).toBe(before);
      // The refused failure was never recorded: no grace is running.
      t.clock.advanceDays(30);
      expect(await sweep()).toEqual([]);
      expect(await statuses(e1)).toEqual([['active', null]]);
    });

    it('customer.subscription.deleted revokes the entitlement its metadata names, once', async () => {
      const e1 = await grantAsOperator(t);
      const deleted = subscriptionDeletedEvent(t, { customer_id: 'acme', entitlement_id: e1 });
      const res = await deliver(t, deleted);
      expect(res.body).toMatchObject({ outcome: 'applied', entitlementId: e1, customerId: 'acme', events: ['EntitlementRevoked'] });
      expect(await statuses(e1)).toEqual([['revoked', 'subscription_deleted']]);
      const before = await t.head();
      expect((await deliver(t, deleted)).body).toMatchObject({ outcome: 'replayed', events: [] });
      // Another event for an entitlement already revoked: what it asks for holds.
      expect((await deliver(t, subscriptionDeletedEvent(t, { customer_id: 'acme', entitlement_id: e1 }))).body).toMatchObject({ outcome: 'unchanged', events: [] });
      expect(await t.head()).toBe(before);
    });

    it('customer.subscription.deleted is refused without an entitlement or a customer, for an unknown one, or for another customer\'s', async () => {
      const e1 = await grantAsOperator(t);
      const before = await t.head();
      const answers = [
        await deliver(t, subscriptionDeletedEvent(t, { customer_id: 'acme' })),
        // Metadata naming only an entitlement (a stray subscription) must not revoke it.
        await deliver(t, subscriptionDeletedEvent(t, { entitlement_id: e1 })),
        await deliver(t, subscriptionDeletedEvent(t, { customer_id: 'acme', entitlement_id: 'no-such-entitlement' })),
        await deliver(t, subscriptionDeletedEvent(t, { customer_id: 'globex', entitlement_id: e1 })),
      ];
      expect(answers.map((r) => `${r.status} ${r.body.code}`)).toEqual(['422 WEBHOOK.NO_ENTITLEMENT', '422 WEBHOOK.NO_CUSTOMER', '404 ENTITLEMENT.NOT_FOUND', '409 ENTITLEMENT.CUSTOMER_MISMATCH']);
      expect(await t.head()).toBe(before);
      expect(await statuses(e1)).toEqual([['active', null]]);
    });

    it('is documented in OpenAPI with the Stripe-Signature header, and declared signed: the signature authenticates it, not a bearer credential', async () => {
      expect(Reflect.getMetadata(ACCESS, PaymentWebhooksController.prototype.receive)).toMatchObject({ kind: 'signed' });
      const doc = (await t.http('GET', '/docs/openapi.json')).body;
      const op = doc.paths['/v1/webhooks/payments'].post;
      expect(op.parameters.find((p: { name: string }) => p.name === 'Stripe-Signature')).toMatchObject({ in: 'header', required: true });
      expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '404', '409', '422', '503']);
    });
  });

  describe('with a grace of 0', () => {
    beforeEach(async () => (t = await startLedgerApp({ env: env(0) })));

    it('a failed payment suspends at once', async () => {
      const [e1, e2] = [await grantAsOperator(t), await grantAsOperator(t, 'DSG-PRO', 1)];
      const res = await deliver(t, invoiceEvent(t, 'invoice.payment_failed'));
      expect(res.body).toMatchObject({ outcome: 'applied', events: ['InvoicePaymentFailed', 'EntitlementSuspended', 'EntitlementSuspended', 'DunningSuspended'] });
      expect(await statuses(e1, e2)).toEqual([['suspended', 'payment_failed'], ['suspended', 'payment_failed']]);
      expect(res.body.position).toBe(await t.head());
    });

    it('the payment reinstates exactly the entitlements dunning suspended: an operator\'s suspensions stay', async () => {
      const [mine, fraud, relapsed, revoked] = [await grantAsOperator(t), await grantAsOperator(t), await grantAsOperator(t), await grantAsOperator(t)];
      // Suspended by an operator before the payment failed: dunning leaves it alone.
      expect((await suspend(fraud, 'fraud review')).status).toBe(200);
      const failure = invoiceEvent(t, 'invoice.payment_failed');
      const failed = await deliver(t, failure);
      expect(failed.body.events.filter((e: string) => e === 'EntitlementSuspended')).toHaveLength(3);
      const dunningSuspended = (await t.eventsAfter(0)).find((e) => e.type === 'DunningSuspended')!;
      expect([...(dunningSuspended.data as { entitlementIds: string[] }).entitlementIds].sort()).toEqual([mine, relapsed, revoked].sort());
      // Meanwhile an operator lifts one dunning suspension and imposes their own, and revokes another.
      await reinstate(relapsed);
      await suspend(relapsed, 'legal hold');
      await t.http('POST', `/v1/entitlements/${revoked}/revoke`, { reason: 'contract terminated' }, OPERATOR);

      const before = await t.head();
      const paid = await deliver(t, invoiceEvent(t, 'invoice.paid', { invoiceId: failure.data.object.id }));
      expect(paid.body).toMatchObject({ outcome: 'applied', events: ['InvoicePaid', 'EntitlementReinstated', 'DunningReinstated'] });
      expect(await statuses(mine, fraud, relapsed, revoked)).toEqual([
        ['active', null],
        ['suspended', 'fraud review'],
        ['suspended', 'legal hold'],
        ['revoked', 'contract terminated'],
      ]);
      expect(await appendedSince(before)).toEqual(['InvoicePaid dunning-acme', 'EntitlementReinstated entitlement', 'DunningReinstated dunning-acme']);
      const reinstated = (await t.eventsAfter(before)).find((e) => e.type === 'DunningReinstated')!;
      expect(reinstated.data).toMatchObject({ reinstated: [mine] });
      expect([...(reinstated.data as { entitlementIds: string[] }).entitlementIds].sort()).toEqual([mine, relapsed, revoked].sort());
    });

    it('a new failure after the payment opens a new case that suspends again', async () => {
      const e1 = await grantAsOperator(t);
      const first = invoiceEvent(t, 'invoice.payment_failed');
      await deliver(t, first);
      await deliver(t, invoiceEvent(t, 'invoice.paid', { invoiceId: first.data.object.id }));
      expect(await statuses(e1)).toEqual([['active', null]]);
      t.clock.advanceDays(30);
      const next = await deliver(t, invoiceEvent(t, 'invoice.payment_failed'));
      expect(next.body.events).toEqual(['InvoicePaymentFailed', 'EntitlementSuspended', 'DunningSuspended']);
      expect(await statuses(e1)).toEqual([['suspended', 'payment_failed']]);
    });

    it('a failure delivered after the payment of its invoice changes nothing', async () => {
      const e1 = await grantAsOperator(t);
      const invoiceId = stripeId('in');
      // Stripe does not promise order: the payment arrives first.
      const failure = invoiceEvent(t, 'invoice.payment_failed', { invoiceId });
      await deliver(t, invoiceEvent(t, 'invoice.paid', { invoiceId }));
      const before = await t.head();
      expect((await deliver(t, failure)).body).toMatchObject({ outcome: 'unchanged', events: [] });
      expect(await t.head()).toBe(before);
      expect(await statuses(e1)).toEqual([['active', null]]);
    });
  });
});
