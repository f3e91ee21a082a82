import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Authenticator, HealthRegistry } from '@el/platform';
import { EVENT_STORE, type EventStore } from '@el/event-store';
import { INTEGRATION_EVENTS, type IntegrationEvents } from '@el/messaging';
import { StoreApiKeys, TopicApiKeys, type ApiKeyDirectory } from './api-key-directory';
import { CredentialAuthenticator } from './credential-authenticator';
import { GetSessionController } from './get-session/get-session.http.controller';
import { GetSessionHandler } from './get-session/get-session.query';
import { oidcSettings, type IdentityConfig } from './identity.config';
import { OidcVerifier } from './oidc';

export const API_KEY_DIRECTORY = Symbol('API_KEY_DIRECTORY');

class DirectoryLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(API_KEY_DIRECTORY) private readonly directory: ApiKeyDirectory,
    private readonly health: HealthRegistry,
  ) {}
  async onModuleInit(): Promise<void> {
    await this.directory.start();
    const directory = this.directory;
    // Keys read from Kafka can fall behind silently (and a revocation with them): /health says so.
    if (directory instanceof TopicApiKeys) this.health.register('apiKeys', () => directory.health());
  }
  async onApplicationShutdown(): Promise<void> {
    await this.directory.stop();
  }
}

export interface IdentityOptions {
  /**
   * Where API keys are read: `store` (the event store's key log: the ledger,
   * the embedded process) or `topic` (ledger.api-keys.v1 on Kafka: the
   * enforcement service, consumed under `group`).
   */
  readonly keys: { readonly from: 'store' } | { readonly from: 'topic'; readonly group: string; readonly topic?: string };
}

/**
 * Credentials for every route: binds the Authenticator the access guard and
 * the check routes' hook use, and answers `GET /v1/me` (who the caller is) in
 * every service that mounts it. Requires EventStoreModule (keys from the
 * store) or MessagingModule (keys from the topic).
 */
@Global()
@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig, options: IdentityOptions): DynamicModule {
    const oidc = oidcSettings(config);
    if (oidc) new Logger('identity').log({ issuer: oidc.issuer, audience: oidc.audience }, 'accepting operators\' tokens from the identity provider');
    const directory =
      options.keys.from === 'store'
        ? { provide: API_KEY_DIRECTORY, inject: [EVENT_STORE], useFactory: (store: EventStore) => new StoreApiKeys(store, config.API_KEY_REFRESH_MS) }
        : { provide: API_KEY_DIRECTORY, inject: [INTEGRATION_EVENTS], useFactory: (bus: IntegrationEvents) => {
            const keys = options.keys as { group: string; topic?: string };
            return new TopicApiKeys(bus, keys.group, keys.topic);
          },
        };
    return {
      module: IdentityModule,
      imports: [CqrsModule.forRoot()],
      controllers: [GetSessionController],
      providers: [
        GetSessionHandler,
        directory,
        DirectoryLifecycle,
        { provide: Authenticator, inject: [API_KEY_DIRECTORY], useFactory: (d: ApiKeyDirectory) => new CredentialAuthenticator(d, oidc ? new OidcVerifier(oidc) : null) },
      ],
      exports: [Authenticator, API_KEY_DIRECTORY],
    };
  }
}
