import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError } from '../config/config';

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
  try {
    await app.init();
    // Message handlers (@EventPattern, connected with connectBus) start once the app is initialised.
    await app.startAllMicroservices();
    await app.listen({ port, host });
  } catch (err) {
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
