import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS } from '@el/contracts';
import type { IncomingMessage } from '@el/messaging';
import { EnforcementViewRunner } from './view-runner';

/**
 * The enforcement view's feed: every message of ledger.entitlements.v1 (from
 * Kafka, or from the event store's log when embedded), in order per
 * partition, from the view's snapshot onwards (EnforcementViewRunner says
 * where). A message it cannot apply is recorded and skipped, never retried.
 */
@Controller()
export class EntitlementFeedController {
  constructor(private readonly runner: EnforcementViewRunner) {}

  @EventPattern(TOPICS.entitlements, { subscription: EnforcementViewRunner })
  apply(@Payload() m: IncomingMessage): void {
    this.runner.handle(m);
  }
}
