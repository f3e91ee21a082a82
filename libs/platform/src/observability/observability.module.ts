import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { Clock, IdGenerator, RandomIdGenerator, SystemClock } from '../ids/ids';
import { ApiErrorFilter, HTTP_ERROR_TABLE, type HttpErrorTable } from '../http/error.filter';
import { RequestContextGuard } from '../http/request-context';
import { HealthController, HealthRegistry } from './health';
import { Metrics, MetricsController } from './metrics';

export interface PlatformOptions {
  readonly serviceName: string;
  readonly logLevel: string;
  /** Error code → HTTP status for this app's domain errors. */
  readonly errorTable: HttpErrorTable;
  /** Pretty, human log lines instead of JSON (never in production). */
  readonly prettyLogs?: boolean;
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
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.logLevel,
            base: { service: options.serviceName },
            messageKey: 'msg',
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            genReqId: (req) => (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
            customProps: (req) => ({ correlationId: req.headers['x-correlation-id'] }),
            // Probes and scrapes would drown the log. Middleware may see a mount-relative url: use the original.
            autoLogging: { ignore: (req) => /^\/(health|metrics)(\?|$)/.test((req as { originalUrl?: string }).originalUrl ?? req.url ?? '') },
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
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
        { provide: APP_GUARD, useClass: RequestContextGuard },
      ],
      exports: [Metrics, HealthRegistry, Clock, IdGenerator, HTTP_ERROR_TABLE],
    };
  }
}
