import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paymentWebhookSecret } from './payment-webhook-verifier';

describe('the webhook signing secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'el-webhook-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const problem = (config: { PAYMENT_WEBHOOK_SECRET: string; PAYMENT_WEBHOOK_SECRET_FILE: string }) => {
    try {
      paymentWebhookSecret(config);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('comes from PAYMENT_WEBHOOK_SECRET, or from the file PAYMENT_WEBHOOK_SECRET_FILE names (trailing newline dropped); neither: not configured', () => {
    expect(paymentWebhookSecret({ PAYMENT_WEBHOOK_SECRET: 'whsec_a', PAYMENT_WEBHOOK_SECRET_FILE: '' })).toBe('whsec_a');
    expect(paymentWebhookSecret({ PAYMENT_WEBHOOK_SECRET: '', PAYMENT_WEBHOOK_SECRET_FILE: file('secret', 'whsec_b\n') })).toBe('whsec_b');
    expect(paymentWebhookSecret({ PAYMENT_WEBHOOK_SECRET: '', PAYMENT_WEBHOOK_SECRET_FILE: '' })).toBeNull();
  });

  it('stops the boot naming the variable: both set, a file that cannot be read, an empty file', () => {
    expect(problem({ PAYMENT_WEBHOOK_SECRET: 'whsec_a', PAYMENT_WEBHOOK_SECRET_FILE: file('s2', 'whsec_b') })).toMatch(/PAYMENT_WEBHOOK_SECRET_FILE: cannot be used together with PAYMENT_WEBHOOK_SECRET/);
    expect(problem({ PAYMENT_WEBHOOK_SECRET: '', PAYMENT_WEBHOOK_SECRET_FILE: join(dir, 'missing') })).toMatch(/PAYMENT_WEBHOOK_SECRET_FILE: cannot read .*missing \(ENOENT\)/);
    expect(problem({ PAYMENT_WEBHOOK_SECRET: '', PAYMENT_WEBHOOK_SECRET_FILE: file('empty', '\n') })).toMatch(/PAYMENT_WEBHOOK_SECRET_FILE: .*empty is empty/);
  });
});
