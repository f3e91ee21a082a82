import { Logger as NestLogger, ValidationPipe, type ArgumentMetadata, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from '../observability/metrics';
import type { LatencySeries } from '../observability/fast-metrics';
import { tooDeep, unsafeInput, validationException } from './api-error';
import { redactCredentials } from '../config/redact';
import { keepRawBody, type RawBodyRouteConfig } from './raw-body';

export interface HttpAppOptions {
  readonly title: string;
  readonly description: string;
  readonly version: string;
  /** Largest accepted request body. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** OpenAPI path items of routes served by Fastify directly (see jsonRoute), merged into the document. */
  readonly extraPaths?: Readonly<Record<string, unknown>>;
  /** Route URLs (e.g. `/v1/check`) without access lines: thousands a second are counted in /metrics instead. */
  readonly quietRoutes?: readonly string[];
  /** Origins allowed to call from a browser (CORS_ORIGINS); none: CORS off. */
  readonly corsOrigins?: readonly string[];
}

/** Sent with every HTML page (the API docs, the console): no framing, no sniffing, scripts only from here. */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * class-validator walks bodies recursively: a body nested thousands of levels deep is refused before it
 * gets there. What it lets through though it must not (keys named like inherited members, text with a
 * lone surrogate) is refused here too.
 */
class BoundedValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      tooDeep(value, metadata.type);
      if (this.toValidate(metadata)) unsafeInput(value);
    }
    return super.transform(value, metadata);
  }
}

export function validationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
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
  // bodyParser: false keeps Fastify's own JSON parser (built once) instead of NestJS's, which
  // buffers the body and rebuilds the parser on every request. We accept JSON only.
  // abortOnError: false hands a provider's boot error (a ConfigError from a refused connection) to
  // runMain, which prints its message naming the variable; Nest's own handler would print a stack and exit.
  const app = await NestFactory.create<NestFastifyApplication>(rootModule as Type<unknown>, fastifyAdapter(options), { bufferLogs: true, bodyParser: false, abortOnError: false });
  configureHttpApp(app, options);
  return app;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export function fastifyAdapter(options: Pick<HttpAppOptions, 'bodyLimit'> = {}): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    disableRequestLogging: true,
    // No Nest middleware anywhere: request ids and access lines come from Fastify hooks.
    skipMiddie: true,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
}

/** Everything createHttpApp sets up on an app, for apps created another way (tests). */
export function configureHttpApp(app: NestFastifyApplication, options: HttpAppOptions): void {
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(validationPipe());
  if (options.corsOrigins?.length) {
    app.enableCors({
      origin: [...options.corsOrigins],
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match', 'x-correlation-id', 'x-request-id'],
      exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id'],
      maxAge: 600,
    });
  }

  const fastify = app.getHttpAdapter().getInstance();
  const record = responseRecorder(app.get(Metrics), new Set(['/health', '/health/live', '/metrics', ...(options.quietRoutes ?? [])]));
  // Route-level rather than global, so that routes which time themselves (jsonRoute, `config.selfTimed`)
  // carry no onResponse hook at all: Fastify then skips the per-request 'finish' listeners too.
  // Requests that match no route are recorded by the error filter.
  fastify.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) {
      // HTML (and the assets it loads): security headers set before the handler, so every answer carries them.
      const secure = (_req: FastifyRequest, reply: FastifyReply, done: () => void) => {
        void reply.headers(HTML_SECURITY_HEADERS);
        done();
      };
      const before = route.onRequest;
      route.onRequest = before ? [...(Array.isArray(before) ? before : [before]), secure] : [secure];
    }
    if ((route.config as RawBodyRouteConfig | undefined)?.keepRawBody) {
      const parsing = route.preParsing;
      route.preParsing = parsing ? [...(Array.isArray(parsing) ? parsing : [parsing]), keepRawBody] : [keepRawBody];
    }
    if ((route.config as { selfTimed?: boolean } | undefined)?.selfTimed) return;
    const hook = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      record(req, reply);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing ? [...(Array.isArray(existing) ? existing : [existing]), hook] : [hook];
  });

  const config = new DocumentBuilder()
    .setTitle(options.title)
    .setDescription(options.description)
    .setVersion(options.version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key (elk_…) or OIDC access token', description: 'An API key (elk_…) or an operator\'s OIDC access token' })
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

/**
 * Records a finished request: its latency in http_server_request_duration_seconds (series cached
 * per method, route and status) and an access line, except for `quiet` routes unless they failed.
 */
export function responseRecorder(metrics: Metrics, quiet: ReadonlySet<string> = new Set()): (req: FastifyRequest, reply: FastifyReply) => void {
  const access = new NestLogger('http');
  const series = new Map<string, LatencySeries>();
  return (req, reply) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    const status = reply.statusCode;
    const key = `${req.method} ${route} ${status}`;
    let s = series.get(key);
    if (!s) series.set(key, (s = metrics.httpDuration.child({ method: req.method, route, status: String(status) })));
    s.observe(reply.elapsedTime / 1000);
    if (!quiet.has(route) || status >= 500) {
      const correlationId = req.headers['x-correlation-id'];
      access.log(
        { req: { id: req.id, method: req.method, url: req.url.includes('?') ? redactCredentials(req.url) : req.url }, res: { statusCode: status }, responseTime: Math.round(reply.elapsedTime * 10) / 10, ...(correlationId ? { correlationId } : {}) },
        'request completed',
      );
    }
  };
}
