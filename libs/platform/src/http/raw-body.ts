import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { Transform } from 'node:stream';
import { ApiException } from './api-error';

const RAW_BODY = Symbol('el:raw-body');

/** The route config flag `KeepRawBody` sets (read by configureHttpApp's onRoute hook). */
export interface RawBodyRouteConfig {
  readonly keepRawBody?: boolean;
}

/**
 * Keeps the exact bytes of this route's request body beside the parsed JSON,
 * for a signature computed over the body as it was sent (a payment gateway's
 * webhook): re-serialising the parsed JSON would not give the same bytes.
 * Only the routes that ask for it pay for the copy; the body limit and the
 * JSON parser are Fastify's as everywhere else.
 */
export const KeepRawBody = () => RouteConfig({ keepRawBody: true } satisfies RawBodyRouteConfig);

/** The body's bytes on a `KeepRawBody` route (an empty buffer when the request had none). */
export function rawBodyOf(request: FastifyRequest): Buffer {
  return (request as FastifyRequest & { [RAW_BODY]?: Buffer })[RAW_BODY] ?? Buffer.alloc(0);
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * A preParsing hook that copies the body's bytes as the parser reads them. The bytes are read as
 * JSON whatever the parser made of them, so a body sent as anything else is refused (415): Fastify
 * would have parsed text/plain as a string and the route read the same bytes as an event.
 */
export function keepRawBody(request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload, done: (err: Error | null, stream?: RequestPayload) => void): void {
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) {
    done(new ApiException(415, 'UNSUPPORTED_MEDIA_TYPE', `this route reads its body as JSON: send it as application/json, not ${contentType.slice(0, 100)}`));
    return;
  }
  const chunks: Buffer[] = [];
  const copy = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      (request as FastifyRequest & { [RAW_BODY]?: Buffer })[RAW_BODY] = Buffer.concat(chunks);
      callback();
    },
  });
  // An aborted upload reaches the parser as an error, as it would without the copy.
  payload.on('error', (err) => copy.destroy(err));
  done(null, payload.pipe(copy));
}
