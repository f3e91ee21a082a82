import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { post, start, type Running } from './testing/embedded-process';
import { until } from '@el/testing';

describe('npm start (embedded entry point)', () => {
  let dataDir: string;
  const running: Running[] = [];
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'el-main-'))));
  afterEach(async () => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on the embedded default, prints its URL, stops on SIGTERM and keeps its data across a restart', async () => {
    const first = await start({ DATA_DIR: dataDir });
    running.push(first);
    expect(first.output()).toContain('Entitlement Ledger (embedded) is up');
    expect((await first.fetch(`/health`)).status).toBe(200);
    const order = await post(`${first.url}/v1/orders`, { orderId: 'SO-1', customerId: 'acme', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 3, action: 'new' }] });
    expect(order.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const second = await start({ DATA_DIR: dataDir });
    running.push(second);
    const owned = (await (await second.fetch(`/v1/customers/acme/entitlements?minPosition=${order.body.position}`)).json()) as { items: Record<string, unknown>[] };
    expect(owned.items).toHaveLength(1);
    expect(owned.items[0]).toMatchObject({ entitlementId: order.body.lines[0].entitlementId, seats: 3 });
  });

  it('refuses a second process on the same DATA_DIR, names its holder, and takes the directory over once the holder is gone (even by SIGKILL)', async () => {
    const first = await start({ DATA_DIR: dataDir });
    running.push(first);
    const second = await start({ DATA_DIR: dataDir });
    running.push(second);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.output().trim()).toBe(`entitlement-ledger failed to start: Invalid configuration:\n  - DATA_DIR: ${dataDir} is in use by entitlement-ledger (embedded) (pid ${first.child.pid}, since ${JSON.parse(readFileSync(join(dataDir, 'owner.json'), 'utf8')).since}): stop it, or give this process its own DATA_DIR`);
    expect((await first.fetch('/health')).status).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await start({ DATA_DIR: dataDir });
    running.push(third);
    expect((await third.fetch('/health')).status).toBe(200);
  });

  it('names DATA_DIR, without a stack trace, when it cannot be written', async () => {
    const file = join(dataDir, 'a-file');
    writeFileSync(file, 'not a directory');
    const app = await start({ DATA_DIR: join(file, 'data') });
    running.push(app);
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.output().trim()).toBe(`entitlement-ledger failed to start: Invalid configuration:\n  - DATA_DIR: ${join(file, 'data')} cannot be created or written (ENOTDIR): give a directory this process may write`);
  });

  it('loses no acknowledged write when killed with SIGKILL mid-load', async () => {
    const app = await start({ DATA_DIR: dataDir });
    running.push(app);
    const acked: string[] = [];
    let ackedPosition = 0;
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await post(`${app.url}/v1/orders`, { orderId: `SO-${w}-${i}`, customerId: `c-${w}`, lines: [{ lineId: '1', sku: 'VLT-PRO', quantity: 1, action: 'new' }] });
          if (r.status === 201) {
            acked.push(`SO-${w}-${i}`);
            ackedPosition = Math.max(ackedPosition, r.body.position);
          }
        } catch {
          return; // the server is gone
        }
      }
    });
    await until('40 acknowledged orders', () => acked.length >= 40, { intervalMs: 5 });
    app.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    expect((await app.exited).signal).toBe('SIGKILL');

    const again = await start({ DATA_DIR: dataDir });
    running.push(again);
    for (const orderId of acked) {
      const res = await again.fetch(`/v1/orders/${orderId}?minPosition=${ackedPosition}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('fulfilled');
    }
  });

  it('finishes an approval that a kill -9 interrupted between recording it and granting it', async () => {
    const app = await start({ DATA_DIR: dataDir, LEDGER_TEST_PAUSE_AFTER_APPROVAL: 'true' });
    running.push(app);
    const alice = await app.keyFor('customer-user', 'acme');
    const bob = await app.keyFor('operator');
    const asked = await app.fetch(`/v1/access-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...alice },
      body: JSON.stringify({ customerId: 'acme', sku: 'ANL-ENT', reason: 'SSO for the data team' }),
    });
    const { requestId } = (await asked.json()) as { requestId: string };
    // The approval is recorded, then the process holds before the grant: killed there, at the worst moment.
    const approving = app.fetch(`/v1/access-requests/${requestId}/approve`, { method: 'POST', headers: { 'content-type': 'application/json', ...bob }, body: '{}' }).catch(() => null);
    await until('the approval to be recorded and held', () => app.output().includes('ledger paused after recording an approval'));
    app.child.kill('SIGKILL');
    expect((await app.exited).signal).toBe('SIGKILL');
    expect(await approving).toBeNull(); // the caller never got an answer

    const again = await start({ DATA_DIR: dataDir });
    running.push(again);
    // Recovery at boot carries the approval out: granted once, recorded as fulfilled.
    const request = await until('the approval to be carried out', async () => {
      const r = (await (await again.fetch(`/v1/access-requests/${requestId}`)).json()) as { status: string; fulfilledAt: string | null; entitlementId: string };
      return r.fulfilledAt ? r : null;
    });
    expect(request).toMatchObject({ status: 'approved', approvedBy: expect.stringMatching(/^key:/), fulfilment: { entitlementEvents: ['EntitlementGranted'] } });
    const entitlement = (await (await again.fetch(`/v1/entitlements/${request.entitlementId}`)).json()) as Record<string, unknown>;
    expect(entitlement).toMatchObject({ customerId: 'acme', planSku: 'ANL-ENT', revision: 0, origin: { kind: 'access_request', requestId } });
    // The approver retrying the call that never answered gets the same grant, written once.
    const retried = await post(`${again.url}/v1/access-requests/${requestId}/approve`, {}, bob);
    expect(retried).toMatchObject({ status: 200, body: { status: 'approved', entitlementId: request.entitlementId, entitlementEvents: ['EntitlementGranted'], replayed: true } });
    expect(((await (await again.fetch(`/v1/entitlements/${request.entitlementId}`)).json()) as { revision: number }).revision).toBe(0);
  });

  it('refuses to start with a bad variable and names it', async () => {
    const bad = await start({ DATA_DIR: dataDir, PORT: 'eighty', SQLITE_SYNCHRONOUS: 'MAYBE' });
    running.push(bad);
    expect((await bad.exited).code).toBe(1);
    expect(bad.output()).toContain('PORT: must be an integer from 1 to 65535 (got "eighty")');
    expect(bad.output()).toContain('SQLITE_SYNCHRONOUS: must be one of FULL, NORMAL (got "MAYBE")');
  });

  it('says which variable to change when the port is taken', async () => {
    const first = await start({ DATA_DIR: dataDir });
    running.push(first);
    const port = new URL(first.url).port;
    const second = await start({ DATA_DIR: mkdtempSync(join(dataDir, 'second-')), PORT: port });
    running.push(second);
    expect((await second.exited).code).toBe(1);
    expect(second.output()).toContain(`PORT: port ${port} is already in use`);
  });
});
