/**
 * The baseline for bench:check: a bare Fastify server whose one route parses
 * the same JSON body and returns a constant, in its own process like the
 * service. The constant is BARE_BODY (the service's answer to the same check,
 * so both write the same bytes) or a small object. Prints "listening <port>".
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const constant: unknown = process.env['BARE_BODY'] ? JSON.parse(process.env['BARE_BODY']) : { allowed: true, code: 'OK' };
app.post('/v1/check', async () => constant);
app.listen({ port: Number(process.env['PORT'] ?? 0), host: '127.0.0.1' }).then(
  () => process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
