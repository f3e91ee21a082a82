import { Module, type DynamicModule } from '@nestjs/common';
import { CheckRoutes } from './check/check.routes';
import { ENFORCEMENT_CONFIG, type EnforcementConfig } from './enforcement.config';
import { DEFAULT_ENFORCEMENT_TOPIC, ENFORCEMENT_TOPIC, EnforcementViewRunner } from './view/view-runner';
import { ViewController } from './view/view.http.controller';
import { EntitlementFeedController } from './view/entitlement-feed.controller';

/**
 * The enforcement service: the in-memory view of ledger.entitlements.v1 and
 * the check API over it. Requires PlatformModule and MessagingModule (Kafka,
 * or in-process when embedded with the ledger).
 */
@Module({})
export class EnforcementModule {
  static register(config: EnforcementConfig, options: { topic?: string } = {}): DynamicModule {
    return {
      module: EnforcementModule,
      controllers: [ViewController, EntitlementFeedController],
      providers: [
        { provide: ENFORCEMENT_CONFIG, useValue: config },
        { provide: ENFORCEMENT_TOPIC, useValue: options.topic ?? DEFAULT_ENFORCEMENT_TOPIC },
        EnforcementViewRunner,
        CheckRoutes,
      ],
      exports: [EnforcementViewRunner],
    };
  }
}
