import { createServer, type ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError } from '../config/config';
import { HealthRegistry } from '../observability/health';

/**
 * Runs a service's main(): a configuration or boot error ends the process
 * with a plain message on stderr (naming the bad variable), not a stack trace.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const e = err as Error;
    const known = err instanceof ConfigError || ['CatalogLoadError', 'ConfigError'].includes(e?.name);
    process.stderr.write(`${name} failed to start: ${known ? e.message : (e?.stack ?? String(err))}\n`);
    process.exit(1);
  });
}

export async function listen(app: NestFastifyApplication, port: number, host: string, banner: string, options: { readonly console?: boolean } = {}): Promise<void> {
  // Before listen(): boot hooks (catch-up, recovery) run inside it, and a stop request during boot must still shut down cleanly.
  handleSignals(app);
  let booting: BootServer | null = null;
  try {
    booting = await answerWhileBooting(app, port, host);
    await app.init();
    // Message handlers (@EventPattern, connected with connectBus) start once the app is initialised.
    await app.startAllMicroservices();
    await booting.close();
    booting = null;
    await app.listen({ port, host });
  } catch (err) {
    await booting?.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      await app.close();
      throw new ConfigError([{ variable: 'PORT', message: `port ${port} is already in use; choose another with PORT=...` }]);
    }
    throw err;
  }
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const links = `API docs: http://${shown}:${port}/docs, health: /health, metrics: /metrics`;
  process.stdout.write(`\n${banner}\n  → http://${shown}:${port}   (${options.console ? `web console: http://${shown}:${port}/console, ` : ''}${links})\n\n`);
}

interface BootServer {
  close(): Promise<void>;
}

/**
 * The port answers from the start, while the app boots — its hooks catch up
 * with the log and the topics, recover interrupted work, which takes as long
 * as there is to read: `/health/live` 200 (the process is alive: no restart),
 * `/health` 503 with every component's state as it is (a view replaying says
 * how far it is), anything else 503 `SERVICE.STARTING` with Retry-After.
 * Closed, its connections with it, the moment before the app listens itself.
 */
async function answerWhileBooting(app: NestFastifyApplication, port: number, host: string): Promise<BootServer> {
  const started = Date.now();
  let health: HealthRegistry | null = null;
  try {
    health = app.get(HealthRegistry, { strict: false });
  } catch {
    /* an app without the platform's health: /health says only that it is starting */
  }
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    // No keep-alive: a client's next request goes to the app once it listens, not to a socket closed under it.
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', connection: 'close', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const startingFor = Math.round((Date.now() - started) / 100) / 10;
    if (path === '/health/live') return send(res, 200, { status: 'live', starting: true, uptimeSeconds: Math.round(process.uptime()) });
    if (path === '/health') {
      void (health ? health.report() : Promise.resolve({ components: {} })).then(
        (report) => send(res, 503, { status: 'starting', startingForSeconds: startingFor, components: report.components }, { 'retry-after': '1' }),
        () => send(res, 503, { status: 'starting', startingForSeconds: startingFor, components: {} }, { 'retry-after': '1' }),
      );
      return;
    }
    // The shape of every error answer (see the error filter).
    send(res, 503, { statusCode: 503, code: 'SERVICE.STARTING', message: `the service is starting (for ${startingFor} s): it catches up before it answers; see /health for its progress`, details: { retryAfterSeconds: 1 } }, { 'retry-after': '1' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * SIGTERM / SIGINT: stop taking requests, let in-flight work and queued
 * appends finish (app.close runs every shutdown hook, the event store last),
 * then exit 0. A shutdown that hangs is cut off after `graceMs`.
 */
function handleSignals(app: NestFastifyApplication, graceMs = 10_000): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    process.stdout.write(`received ${signal}, shutting down\n`);
    setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${graceMs} ms; exiting\n`);
      process.exit(1);
    }, graceMs).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${(err as Error)?.stack ?? String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
