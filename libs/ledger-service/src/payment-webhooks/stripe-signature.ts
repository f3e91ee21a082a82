import { createHmac, timingSafeEqual } from 'node:crypto';
import { LedgerError } from '../ledger.errors';

/** The header Stripe signs every webhook delivery with: `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…][,v0=…]`. */
export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';

/** Longest header accepted: a timestamp and a handful of signatures (several v1 entries while a secret is being rolled). */
const MAX_HEADER_LENGTH = 2048;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** HMAC-SHA256 of `<t>.<body>` with the endpoint's secret, hex: what a `v1` entry carries. */
export function stripeSignature(secret: string, timestamp: number, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** A `Stripe-Signature` header value for `body`, as Stripe would send it (for tests and local tooling). */
export function stripeSignatureHeader(secret: string, timestamp: number, body: Buffer | string): string {
  return `t=${timestamp},v1=${stripeSignature(secret, timestamp, body)}`;
}

/**
 * Verifies a delivery the way Stripe's own libraries do: the header must
 * carry a timestamp and at least one `v1` signature; one of them must equal
 * the HMAC-SHA256 of `<t>.<raw body>` under the endpoint secret (compared in
 * constant time; `v0` and unknown schemes are ignored); and only then is the
 * timestamp checked, within `toleranceSeconds` of `nowSeconds` either way —
 * an old delivery captured and sent again is refused even with its valid
 * signature. Throws WEBHOOK.BAD_SIGNATURE or WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE.
 */
export function verifyStripeSignature(header: string | undefined, body: Buffer, secret: string, nowSeconds: number, toleranceSeconds: number): void {
  if (header === undefined || header === '') throw new LedgerError('WEBHOOK.BAD_SIGNATURE', 'the Stripe-Signature header is missing');
  if (header.length > MAX_HEADER_LENGTH) throw new LedgerError('WEBHOOK.BAD_SIGNATURE', `the Stripe-Signature header is longer than ${MAX_HEADER_LENGTH} characters`);
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    if (at < 0) continue;
    const key = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && HEX_SHA256.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === null) throw new LedgerError('WEBHOOK.BAD_SIGNATURE', 'the Stripe-Signature header has no timestamp (t=<unix seconds>)');
  if (signatures.length === 0) throw new LedgerError('WEBHOOK.BAD_SIGNATURE', 'the Stripe-Signature header has no v1 signature');
  const expected = Buffer.from(stripeSignature(secret, timestamp, body), 'hex');
  // Every entry is compared (no early exit), each in constant time.
  let matched = false;
  for (const s of signatures) matched = timingSafeEqual(s, expected) || matched;
  if (!matched) {
    throw new LedgerError('WEBHOOK.BAD_SIGNATURE', 'no v1 signature in the Stripe-Signature header matches this body under the configured secret (PAYMENT_WEBHOOK_SECRET): is it the signing secret of this endpoint?');
  }
  const age = nowSeconds - timestamp;
  if (Math.abs(age) > toleranceSeconds) {
    throw new LedgerError('WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE', `the delivery was signed ${Math.abs(age)} s ${age >= 0 ? 'ago' : 'ahead of the ledger clock'}, more than the ${toleranceSeconds} s tolerated: a replayed delivery, or a clock that is off`, {
      signedAt: new Date(timestamp * 1000).toISOString(),
      toleranceSeconds,
    });
  }
}
