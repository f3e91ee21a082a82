import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS } from '@el/contracts';
import { EVENT_STORE, type EventStore } from '@el/event-store';
import { HealthRegistry } from '@el/platform';
import { BusServer } from './bus.server';
import { BUS_CONFIG, INTEGRATION_EVENTS } from './tokens';
import { InProcessIntegrationEvents } from '../inprocess/in-process-integration-events';
import type { IntegrationEvents } from '../integration-events.port';
import { describeKafka, type BusConfig } from './messaging.config';
import { openKafkaBus } from './open-kafka-bus';
import { LEDGER_INSTALLATION, LedgerInstallation } from '../installation';


@Injectable()
class MessagingLifecycle implements OnApplicationShutdown {
  constructor(@Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents) {}
  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

/**
 * The process's IntegrationEvents — Kafka when distributed, the event store's
 * log when embedded (consumer groups keep their checkpoints in the store) —
 * and the transport that serves @EventPattern handlers from it (`connectBus`).
 * Requires PlatformModule; in-process also EventStoreModule.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(config: BusConfig): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: BUS_CONFIG, useValue: config },
        {
          provide: INTEGRATION_EVENTS,
          inject: [{ token: EVENT_STORE, optional: true }, HealthRegistry, LEDGER_INSTALLATION],
          useFactory: async (store: EventStore | undefined, health: HealthRegistry, installation: LedgerInstallation): Promise<IntegrationEvents> => {
            if (config.kind === 'inprocess') {
              if (!store) {
                throw Object.assign(new Error('BUS: the in-process bus reads the event store of this process; a service without one needs BUS=kafka'), { name: 'ConfigError' });
              }
              const bus = new InProcessIntegrationEvents(store);
              health.register('bus', () => bus.health());
              return bus;
            }
            const logger = new Logger('kafka');
            // Stops the boot with a message naming the variable when Kafka cannot be used (unreachable, refused credentials, untrusted certificate).
            const bus = await openKafkaBus(config, {
              topics: [TOPICS.entitlements, TOPICS.erpOrders, TOPICS.erpOrdersDlq, TOPICS.usage, TOPICS.usageDlq, TOPICS.usageCounters, TOPICS.decisions],
              log: (level, message, extra) => (level === 'debug' ? logger.debug({ ...extra }, message) : level === 'info' ? logger.log({ ...extra }, message) : logger[level]({ ...extra }, message)),
            });
            // Measured on every ask (at most once a second): the brokers answer or not, each consumer's state.
            health.register('bus', async () => ({ ...(await bus.health()), security: describeKafka(config), installation: await installation.expected().catch(() => null) }));
            return bus;
          },
        },
        {
          provide: LEDGER_INSTALLATION,
          inject: [{ token: EVENT_STORE, optional: true }],
          useFactory: (store: EventStore | undefined) => new LedgerInstallation(config.kind === 'kafka' ? (config.installationId ?? null) : null, store ?? null),
        },
        MessagingLifecycle,
        BusServer,
      ],
      exports: [INTEGRATION_EVENTS, BUS_CONFIG, BusServer, LEDGER_INSTALLATION],
    };
  }
}
