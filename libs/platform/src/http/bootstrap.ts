import { ValidationPipe, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { Metrics } from '../observability/metrics';
import { validationException } from './api-error';

export interface HttpAppOptions {
  readonly title: string;
  readonly description: string;
  readonly version: string;
  /** Largest accepted request body. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** OpenAPI path items of routes served by Fastify directly (see jsonRoute), merged into the document. */
  readonly extraPaths?: Readonly<Record<string, unknown>>;
}

export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationException(errors),
  });
}

/**
 * Creates a NestJS app on Fastify with validation (400 with field paths),
 * OpenAPI at /docs (JSON at /docs/openapi.json), JSON logs, request metrics
 * and graceful shutdown.
 */
export async function createHttpApp(rootModule: Type<unknown> | unknown, options: HttpAppOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(rootModule as Type<unknown>, fastifyAdapter(options), { bufferLogs: true });
  configureHttpApp(app, options);
  return app;
}

export function fastifyAdapter(options: Pick<HttpAppOptions, 'bodyLimit'> = {}): FastifyAdapter {
  return new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, disableRequestLogging: true });
}

/** Everything createHttpApp sets up on an app, for apps created another way (tests). */
export function configureHttpApp(app: NestFastifyApplication, options: HttpAppOptions): void {
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(validationPipe());

  const metrics = app.get(Metrics);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  const config = new DocumentBuilder()
    .setTitle(options.title)
    .setDescription(options.description)
    .setVersion(options.version)
    .addGlobalParameters({ name: 'X-Actor', in: 'header', required: false, description: 'Who acts: "<type>:<id>", type one of user, operator, service, erp, system', schema: { type: 'string', example: 'operator:alice' } })
    .addGlobalParameters({ name: 'X-Correlation-Id', in: 'header', required: false, description: 'Carried into every event this request causes', schema: { type: 'string' } })
    .build();
  const document = () => {
    const doc = SwaggerModule.createDocument(app as INestApplication, config);
    Object.assign(doc.paths, options.extraPaths ?? {});
    return doc;
  };
  SwaggerModule.setup('docs', app as INestApplication, document, {
    jsonDocumentUrl: 'docs/openapi.json',
  });
}
