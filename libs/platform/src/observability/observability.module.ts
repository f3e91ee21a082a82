import { Global, Module, type DynamicModule } from '@nestjs/common';
import { PublicKeys } from '../keys/public-keys';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { Clock, IdGenerator, RandomIdGenerator, SystemClock } from '../ids/ids';
import { ApiErrorFilter, HTTP_ERROR_TABLE, type HttpErrorTable } from '../http/error.filter';
import { ACCESS_POLICY, AccessGuard, DEFAULT_ACCESS_POLICY, type AccessPolicy } from '../http/request-context';
import { HealthController, HealthRegistry } from './health';
import { Metrics, MetricsController } from './metrics';

export interface PlatformOptions {
  readonly serviceName: string;
  readonly logLevel: string;
  /** Error code → HTTP status for this app's domain errors. */
  readonly errorTable: HttpErrorTable;
  /** Pretty, human log lines instead of JSON (never in production). */
  readonly prettyLogs?: boolean;
  /** Metrics without a credential, write rate limits (default: metrics public, no limit). */
  readonly access?: AccessPolicy;
}

/**
 * Everything a service needs to be operable: structured JSON logs, `/health`,
 * `/metrics`, one error envelope, the request-context guard, clock and ids.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        // The Nest logger service over pino (JSON lines). Access lines are written by the
        // Fastify hooks of configureHttpApp, not by a per-request middleware: no middleware
        // runs on any route, which keeps the hot check routes at Fastify speed.
        LoggerModule.forRoot({
          forRoutes: [],
          pinoHttp: {
            level: options.logLevel,
            base: { service: options.serviceName },
            messageKey: 'msg',
            redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["stripe-signature"]'],
          },
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        Metrics,
        HealthRegistry,
        { provide: Clock, useClass: SystemClock },
        { provide: IdGenerator, useClass: RandomIdGenerator },
        { provide: HTTP_ERROR_TABLE, useValue: options.errorTable },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
        { provide: ACCESS_POLICY, useValue: options.access ?? DEFAULT_ACCESS_POLICY },
        { provide: APP_GUARD, useClass: AccessGuard },
        PublicKeys,
      ],
      exports: [Metrics, HealthRegistry, Clock, IdGenerator, HTTP_ERROR_TABLE, ACCESS_POLICY, PublicKeys],
    };
  }
}
