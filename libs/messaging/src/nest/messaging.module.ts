import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS } from '@el/contracts';
import { EVENT_STORE, type EventStore } from '@el/event-store';
import { HealthRegistry } from '@el/platform';
import { BusServer } from './bus.server';
import { BUS_CONFIG, INTEGRATION_EVENTS } from './tokens';
import { InProcessIntegrationEvents } from '../inprocess/in-process-integration-events';
import type { IntegrationEvents } from '../integration-events.port';
import { KafkaIntegrationEvents } from '../kafka/kafka-integration-events';
import type { BusConfig } from './messaging.config';


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
          inject: [{ token: EVENT_STORE, optional: true }, HealthRegistry],
          useFactory: async (store: EventStore | undefined, health: HealthRegistry): Promise<IntegrationEvents> => {
            if (config.kind === 'inprocess') {
              if (!store) {
                throw Object.assign(new Error('BUS: the in-process bus reads the event store of this process; a service without one needs BUS=kafka'), { name: 'ConfigError' });
              }
              health.register('bus', () => ({ status: 'up', kind: 'inprocess' }));
              return new InProcessIntegrationEvents(store);
            }
            const logger = new Logger('kafka');
            const bus = new KafkaIntegrationEvents({
              brokers: config.brokers,
              clientId: config.clientId,
              partitions: config.partitions,
              log: (level, message, extra) => (level === 'debug' ? logger.debug({ ...extra }, message) : level === 'info' ? logger.log({ ...extra }, message) : logger[level]({ ...extra }, message)),
            });
            // Fail at boot, naming the variable, when the brokers cannot be reached.
            try {
              await bus.ensureTopics([TOPICS.entitlements, TOPICS.erpOrders, TOPICS.erpOrdersDlq]);
            } catch (err) {
              await bus.close().catch(() => undefined);
              throw Object.assign(new Error(`KAFKA_BROKERS: cannot use Kafka at ${config.brokers.join(',')}: ${(err as Error).message}`), { name: 'ConfigError' });
            }
            health.register('bus', () => ({ status: 'up', kind: 'kafka', brokers: config.brokers }));
            return bus;
          },
        },
        MessagingLifecycle,
        BusServer,
      ],
      exports: [INTEGRATION_EVENTS, BUS_CONFIG, BusServer],
    };
  }
}
