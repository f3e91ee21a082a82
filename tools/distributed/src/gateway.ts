import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type GatewayService = 'ledger' | 'enforcement' | 'metering' | 'audit';

/**
 * Which service answers a path in distributed mode. The paths are the embedded
 * process's, so one origin in front of the services (this gateway locally; an
 * ingress or a reverse proxy with the same table in production) is what a
 * client, and the web console, see. Anything not listed is the ledger's.
 */
export const GATEWAY_ROUTES: readonly { readonly path: RegExp; readonly service: GatewayService }[] = [
  { path: /^\/v1\/(check|view)(\/|\?|$)/, service: 'enforcement' },
  { path: /^\/v1\/usage(\/|\?|$)/, service: 'metering' },
  { path: /^\/v1\/customers\/[^/?]+\/(usage|alerts)(\/|\?|$)/, service: 'metering' },
  { path: /^\/v1\/audit(\/|\?|$)/, service: 'audit' },
];

export function serviceFor(url: string): GatewayService {
  return GATEWAY_ROUTES.find((r) => r.path.test(url))?.service ?? 'ledger';
}

/** Hop-by-hop headers are the connection's, not the message's (RFC 9110 §7.6.1). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function envelope(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ statusCode: status, code, message }));
}

/** The message's own headers: without the hop-by-hop ones, and without those the Connection header names. */
function endToEnd(given: IncomingMessage['headers']): Record<string, string | string[]> {
  const named = new Set(String(given['connection'] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(given)) if (v !== undefined && !HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

function forward(req: IncomingMessage, res: ServerResponse, service: GatewayService, port: number): void {
  const headers = endToEnd(req.headers);
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'http';
  const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers, timeout: 120_000 }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
    answer.pipe(res);
  });
  upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
  upstream.on('error', (err) => envelope(res, err.message === 'timeout' ? 504 : 502, err.message === 'timeout' ? 'GATEWAY.UPSTREAM_TIMEOUT' : 'GATEWAY.UPSTREAM_DOWN', `the ${service} service (port ${port}) ${err.message === 'timeout' ? 'did not answer within 120 s' : 'does not answer'}`));
  // A client that goes away takes its upstream request with it.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** Every signing key the installation publishes: the ledger's (license tokens) and the audit service's (tree heads). */
async function jwks(res: ServerResponse, ports: Readonly<Record<GatewayService, number>>): Promise<void> {
  const sets = await Promise.all(
    (['ledger', 'audit'] as const).map(async (s) => {
      try {
        const r = await fetch(`http://127.0.0.1:${ports[s]}/.well-known/jwks.json`);
        return r.ok ? (((await r.json()) as { keys?: { kid?: string }[] }).keys ?? []) : [];
      } catch {
        return [];
      }
    }),
  );
  const keys = [...new Map(sets.flat().map((k) => [k.kid ?? JSON.stringify(k), k])).values()];
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=60' }).end(JSON.stringify({ keys }));
}

/**
 * The local distributed mode's one origin: routes each request to its
 * service by path (GATEWAY_ROUTES) and merges the published keys.
 */
export async function startGateway(port: number, ports: Readonly<Record<GatewayService, number>>, host = '0.0.0.0'): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url.split('?')[0] === '/.well-known/jwks.json') return void jwks(res, ports);
    const service = serviceFor(url);
    forward(req, res, service, ports[service]);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
