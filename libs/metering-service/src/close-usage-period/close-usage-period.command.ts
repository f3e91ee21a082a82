import { Command } from '@nestjs/cqrs';
import type { UsagePeriodClosed } from '@el/domain';

export interface CloseUsagePeriodResult {
  /** The close as the event store holds it (null when the period cannot close: its entitlement or meter is unknown). */
  readonly closed: UsagePeriodClosed['data'] | null;
  /** True when this command wrote the close; false when it was closed before (by this or another process). */
  readonly recorded: boolean;
}

/** Close one period of an entitlement's meter (issued by the usage-period closer for due periods). */
export class CloseUsagePeriodCommand extends Command<CloseUsagePeriodResult> {
  constructor(
    readonly entitlementId: string,
    readonly feature: string,
    readonly periodStart: string,
  ) {
    super();
  }
}
