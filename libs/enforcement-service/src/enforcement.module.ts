import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TOPICS } from '@el/contracts';
import { USAGE_LOOKUP, USAGE_PROGRESS } from '@el/platform';
import { CheckRoutes } from './check/check.routes';
import { DecisionLog } from './decision-log/decision-log';
import { ENFORCEMENT_CONFIG, type EnforcementConfig } from './enforcement.config';
import { DEFAULT_ENFORCEMENT_TOPIC, ENFORCEMENT_TOPIC, EnforcementViewRunner } from './view/view-runner';
import { ViewController } from './view/view.http.controller';
import { EntitlementFeedController } from './view/entitlement-feed.controller';
import { USAGE_COUNTERS_TOPIC, UsageCountersFeed, UsageCountersFeedController } from './usage/usage-counters-feed';

export interface EnforcementOptions {
  /** The entitlement feed (default ledger.entitlements.v1; tests use their own). */
  readonly topic?: string;
  /**
   * Where checks get metered usage. `in-process` (default): USAGE_LOOKUP and USAGE_PROGRESS of a
   * metering module in the same process (embedded), or none. `counters-topic`: the enforcement
   * service's own view of metering.counters.v1 (the service on its own, on Kafka).
   */
  readonly usage?: 'in-process' | 'counters-topic';
  /** The counters topic (default metering.counters.v1). */
  readonly usageCountersTopic?: string;
}

/**
 * The enforcement service: the in-memory view of ledger.entitlements.v1 and
 * the check API over it, and the decision log (enforcement.decisions.v1). Requires PlatformModule and MessagingModule (Kafka,
 * or in-process when embedded with the ledger). Metered usage comes from a
 * metering module in the same process, or from metering.counters.v1
 * (`usage: 'counters-topic'`).
 */
@Module({})
export class EnforcementModule {
  static register(config: EnforcementConfig, options: EnforcementOptions = {}): DynamicModule {
    const fromTopic = options.usage === 'counters-topic';
    const usage: Provider[] = fromTopic
      ? [
          { provide: USAGE_COUNTERS_TOPIC, useValue: options.usageCountersTopic ?? TOPICS.usageCounters },
          UsageCountersFeed,
          { provide: USAGE_LOOKUP, inject: [UsageCountersFeed], useFactory: (f: UsageCountersFeed) => f.lookup },
          { provide: USAGE_PROGRESS, useExisting: UsageCountersFeed },
        ]
      : [];
    return {
      module: EnforcementModule,
      controllers: [ViewController, EntitlementFeedController, ...(fromTopic ? [UsageCountersFeedController] : [])],
      providers: [
        { provide: ENFORCEMENT_CONFIG, useValue: config },
        { provide: ENFORCEMENT_TOPIC, useValue: options.topic ?? DEFAULT_ENFORCEMENT_TOPIC },
        EnforcementViewRunner,
        DecisionLog,
        CheckRoutes,
        ...usage,
      ],
      exports: [EnforcementViewRunner, DecisionLog],
    };
  }
}
