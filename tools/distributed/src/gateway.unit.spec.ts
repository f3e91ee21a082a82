import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@el/testing';
import { serviceFor, startGateway, type GatewayService } from './gateway';

describe('the gateway', () => {
  it.each([
    ['/v1/check', 'enforcement'],
    ['/v1/check/batch', 'enforcement'],
    ['/v1/view/customers/acme/entitlements', 'enforcement'],
    ['/v1/usage', 'metering'],
    ['/v1/usage/export?period=x', 'metering'],
    ['/v1/customers/acme/usage', 'metering'],
    ['/v1/customers/acme/usage/series?feature=f', 'metering'],
    ['/v1/customers/acme/alerts', 'metering'],
    ['/v1/audit/tree-heads/latest', 'audit'],
    ['/v1/customers/acme/entitlements', 'ledger'],
    ['/v1/customers/acme/summary', 'ledger'],
    ['/v1/customers?search=usage', 'ledger'],
    ['/v1/checkout', 'ledger'],
    ['/v1/usagereport', 'ledger'],
    ['/console/audit', 'ledger'],
    ['/v1/me', 'ledger'],
  ] as const)('routes %s to the %s service', (path, service) => {
    expect(serviceFor(path)).toBe(service);
  });

  it('forwards method, path, headers and body, answers as the service did, and says which service is down', async () => {
    const seen: string[] = [];
    const upstream: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers['authorization']} ${body}`);
        res.writeHead(201, { 'content-type': 'application/json', etag: '"3"' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const up = (upstream.address() as AddressInfo).port;
    const down = await freePort();
    const ports: Record<GatewayService, number> = { ledger: up, enforcement: down, metering: up, audit: up };
    const gw = await startGateway(0, ports, '127.0.0.1');
    try {
      const r = await fetch(`http://127.0.0.1:${gw.port}/v1/usage?x=1`, { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: '{"events":[]}' });
      expect({ status: r.status, etag: r.headers.get('etag'), body: await r.json() }).toEqual({ status: 201, etag: '"3"', body: { ok: true } });
      expect(seen).toEqual(['POST /v1/usage?x=1 Bearer k {"events":[]}']);
      const d = await fetch(`http://127.0.0.1:${gw.port}/v1/check`, { method: 'POST', body: '{}' });
      expect({ status: d.status, body: await d.json() }).toEqual({ status: 502, body: { statusCode: 502, code: 'GATEWAY.UPSTREAM_DOWN', message: `the enforcement service (port ${down}) does not answer` } });
    } finally {
      await gw.close();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });
});
