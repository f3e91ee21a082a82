import { Command } from '@nestjs/cqrs';
import type { UsageCorrectionResultV1, UsageCorrectionV1 } from '@el/contracts';
import type { RequestContext } from '@el/platform';

/** Correct a meter's usage for one period (POST /v1/usage/corrections). */
export class CorrectUsageCommand extends Command<UsageCorrectionResultV1> {
  constructor(
    readonly correction: UsageCorrectionV1,
    /** Who asks: recorded on the event, and what it may see. */
    readonly ctx: RequestContext,
  ) {
    super();
  }
}
