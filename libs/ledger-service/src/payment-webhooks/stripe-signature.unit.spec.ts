import { createHmac } from 'node:crypto';
import { stripeSignatureHeader, verifyStripeSignature } from './stripe-signature';

const secret = 'whsec_test_secret';
const body = Buffer.from('{"id":"evt_1","object":"event"}');
const now = 1_767_225_600;
const verify = (header: string | undefined, payload = body, at = now) => () => verifyStripeSignature(header, payload, secret, at, 300);
const codeOf = (f: () => void): string | null => {
  try {
    f();
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? 'not coded';
  }
};

describe('Stripe-Signature verification', () => {
  it('accepts the HMAC-SHA256 of "<t>.<raw body>" under the secret, as Stripe computes it', () => {
    // Computed independently of the module under test: the documented recipe.
    const v1 = createHmac('sha256', secret).update(`${now}.${body.toString()}`).digest('hex');
    expect(codeOf(verify(`t=${now},v1=${v1}`))).toBeNull();
    expect(stripeSignatureHeader(secret, now, body)).toBe(`t=${now},v1=${v1}`);
  });

  it('accepts any matching v1 entry (a secret being rolled) and ignores v0 and unknown schemes', () => {
    const good = stripeSignatureHeader(secret, now, body).split(',')[1]!;
    expect(codeOf(verify(`t=${now},v1=${'0'.repeat(64)},${good},v0=abc,x=1`))).toBeNull();
    expect(codeOf(verify(`t=${now},v0=${good.slice(3)}`))).toBe('WEBHOOK.BAD_SIGNATURE');
  });

  it('refuses a missing or malformed header, another secret, and a body changed by one byte', () => {
    expect(codeOf(verify(undefined))).toBe('WEBHOOK.BAD_SIGNATURE');
    expect(codeOf(verify('garbage'))).toBe('WEBHOOK.BAD_SIGNATURE');
    expect(codeOf(verify(`v1=${'a'.repeat(64)}`))).toBe('WEBHOOK.BAD_SIGNATURE');
    expect(codeOf(verify(`t=${now}`))).toBe('WEBHOOK.BAD_SIGNATURE');
    expect(codeOf(verify(stripeSignatureHeader('whsec_other', now, body)))).toBe('WEBHOOK.BAD_SIGNATURE');
    expect(codeOf(verify(stripeSignatureHeader(secret, now, body), Buffer.from('{"id":"evt_2","object":"event"}')))).toBe('WEBHOOK.BAD_SIGNATURE');
    expect(codeOf(verify(`t=${now},v1=${'a'.repeat(5000)}`))).toBe('WEBHOOK.BAD_SIGNATURE');
  });

  it('refuses a valid signature whose timestamp is more than the tolerance away, either way', () => {
    expect(codeOf(verify(stripeSignatureHeader(secret, now - 300, body)))).toBeNull();
    expect(codeOf(verify(stripeSignatureHeader(secret, now - 301, body)))).toBe('WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE');
    expect(codeOf(verify(stripeSignatureHeader(secret, now + 301, body)))).toBe('WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE');
  });

  it('checks the signature before the timestamp: an old delivery with a bad signature is a bad signature', () => {
    expect(codeOf(verify(stripeSignatureHeader('whsec_other', now - 10_000, body)))).toBe('WEBHOOK.BAD_SIGNATURE');
  });
});
