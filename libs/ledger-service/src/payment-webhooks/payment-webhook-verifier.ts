import { Inject, Injectable } from '@nestjs/common';
import { Clock, secretFrom } from '@el/platform';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { LedgerError } from '../ledger.errors';
import { parseStripeEvent, type StripeEvent } from './stripe-event';
import { verifyStripeSignature } from './stripe-signature';

/**
 * The webhook endpoint's signing secret: PAYMENT_WEBHOOK_SECRET, or the
 * content of PAYMENT_WEBHOOK_SECRET_FILE (read once, at boot, so a missing
 * or empty file stops the process naming the variable); null when neither
 * is set.
 */
export function paymentWebhookSecret(config: Pick<LedgerConfig, 'PAYMENT_WEBHOOK_SECRET' | 'PAYMENT_WEBHOOK_SECRET_FILE'>): string | null {
  return secretFrom(config, 'PAYMENT_WEBHOOK_SECRET')?.value.reveal() ?? null;
}

/** Authenticates a webhook delivery by its signature and reads the event it carries. */
@Injectable()
export class PaymentWebhookVerifier {
  private readonly secret: string | null;

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    private readonly clock: Clock,
  ) {
    this.secret = paymentWebhookSecret(config);
  }

  /** The event of a delivery whose signature verifies (throws the WEBHOOK.* codes, or VALIDATION_FAILED for a body that is no Stripe event). */
  verify(signatureHeader: string | undefined, body: Buffer): StripeEvent {
    if (this.secret === null) {
      throw new LedgerError('WEBHOOK.NOT_CONFIGURED', 'payment gateway webhooks are not configured on this ledger: set PAYMENT_WEBHOOK_SECRET (or PAYMENT_WEBHOOK_SECRET_FILE) to the endpoint signing secret');
    }
    verifyStripeSignature(signatureHeader, body, this.secret, Math.floor(this.clock.now().getTime() / 1000), this.config.PAYMENT_WEBHOOK_TOLERANCE_SECONDS);
    return parseStripeEvent(body);
  }
}
