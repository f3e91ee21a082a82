import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@el/platform';
import { readLedgerServiceConfig } from '../ledger.config';
import { ProjectorRunner } from '@el/read-models';
import { ExpirySweeper } from '../expire-entitlement/expiry-sweeper';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

const SAMPLE = join(__dirname, '..', '..', '..', '..', 'catalog', 'sample-catalog.yaml');

describe('ledger service as a whole', () => {
  let t: LedgerTestApp | undefined;
  const catalogDirs: string[] = [];
  const catalogDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'el-catalog-'));
    catalogDirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await t?.close(true);
    t = undefined;
    for (const dir of catalogDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('exposes health, Prometheus metrics and the OpenAPI document', async () => {
    t = await startLedgerApp();
    const granted = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' });
    await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${granted.body.position}`);
    const health = await t.http('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      components: {
        eventStore: { status: 'up', synchronous: 'FULL', journalMode: 'wal' },
        readModels: { status: 'up', db: expect.stringMatching(/^sqlite:/) },
        projector: { status: 'up', subscriptionId: 'read-models', events: 0, seconds: 0 },
      },
    });
    const metrics = await t.http('GET', '/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('ledger_commands_total{command="GrantEntitlement",outcome="applied"} 1');
    expect(metrics.body).toMatch(/eventstore_events_appended_total \d+/);
    expect(metrics.body).toMatch(/projector_lag_events 0/);
    expect(metrics.body).toMatch(/projector_lag_seconds 0/);
    expect(metrics.body).toMatch(/projector_position \d+/);
    expect(metrics.body).toContain('http_server_request_duration_seconds_count{method="POST",route="/v1/entitlements",status="201"} 1');
    const doc = await t.http('GET', '/docs/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/orders', '/v1/entitlements/{id}/change-plan', '/v1/customers/{customerId}/entitlements', '/v1/access-requests/{id}/approve']));
    expect((await t.http('GET', '/docs')).status).toBe(200);
  });

  it('reports projection lag in /metrics and degrades /health past PROJECTOR_MAX_LAG_SECONDS', async () => {
    t = await startLedgerApp({ env: { PROJECTOR_MAX_LAG_SECONDS: '1' } });
    await t.app.get(ProjectorRunner).beforeApplicationShutdown(); // the projector stops; writes go on
    await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' });
    await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-ENT' });
    t.clock.set(new Date(Date.now() + 2_000).toISOString()); // two seconds later, the projector still stopped
    const health = await t.http('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.components.projector).toMatchObject({ status: 'degraded', events: expect.any(Number) });
    expect(health.body.components.projector.events).toBeGreaterThanOrEqual(2);
    expect(health.body.components.projector.seconds).toBeGreaterThan(1);
    // Liveness does not depend on the components: a lagging projector is no reason to restart the process.
    const live = await t.http('GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'live', uptimeSeconds: expect.any(Number) });
    const metrics = (await t.http('GET', '/metrics')).body as string;
    expect(Number(/projector_lag_events (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(2);
    expect(Number(/projector_lag_seconds ([\d.]+)/.exec(metrics)![1])).toBeGreaterThan(1);
  });

  it('keeps everything across a restart', async () => {
    t = await startLedgerApp();
    const g = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', quantity: 2 });
    await t.http('POST', `/v1/entitlements/${g.body.entitlementId}/seat-assignments`, { userId: 'bob' });
    const dataDir = t.dataDir;
    await t.close();
    t = await startLedgerApp({ dataDir });
    const view = (await t.http('GET', `/v1/entitlements/${g.body.entitlementId}`)).body;
    expect(view).toMatchObject({ seats: 2, assignedUsers: ['bob'], revision: 1 });
    expect((await t.http('GET', '/v1/customers/acme/entitlements')).body.items).toHaveLength(1);
  });

  it('publishes a catalog version only when the catalog changes, and keeps old versions readable', async () => {
    const dir = catalogDir();
    const path = join(dir, 'catalog.yaml');
    copyFileSync(SAMPLE, path);
    t = await startLedgerApp({ env: { CATALOG_PATH: path } });
    expect((await t.http('GET', '/v1/catalog')).body).toMatchObject({ version: 1, versions: [{ version: 1 }] });
    const dataDir = t.dataDir;
    await t.close();
    t = await startLedgerApp({ dataDir, env: { CATALOG_PATH: path } });
    expect((await t.http('GET', '/v1/catalog')).body.version).toBe(1);
    await t.close();
    writeFileSync(path, readFileSync(path, 'utf8').replace('cap: 1000, capType: hard', 'cap: 2000, capType: hard').replace('label: "2026-11 sample"', 'label: "2026-12"'));
    t = await startLedgerApp({ dataDir, env: { CATALOG_PATH: path } });
    const now = (await t.http('GET', '/v1/catalog')).body;
    expect(now).toMatchObject({ version: 2, label: '2026-12' });
    expect(now.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    const old = (await t.http('GET', '/v1/catalog/versions/1')).body;
    expect(old.products[0].plans[0].features.api_calls.meter.cap).toBe(1000);
    expect((await t.http('GET', '/v1/catalog/versions/9')).status).toBe(404);
    const granted = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-FREE' });
    expect(granted.body.entitlement).toMatchObject({ catalogVersion: 2, features: { api_calls: { meter: { cap: 2000 } } } });
  });

  it('refuses to start with an invalid catalog, naming CATALOG_PATH and the bad path', async () => {
    const dir = catalogDir();
    const path = join(dir, 'catalog.yaml');
    writeFileSync(path, readFileSync(SAMPLE, 'utf8').replace('sku: ANL-ENT', 'sku: ANL-PRO').replace('graceDays: 14', 'graceDays: -1'));
    const err = await startLedgerApp({ env: { CATALOG_PATH: path } }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.name).toBe('CatalogLoadError');
    expect(err?.message).toContain('CATALOG_PATH');
    expect(err?.message).toContain('products[0].plans[2].sku: duplicate SKU "ANL-PRO"');
    expect(err?.message).toContain('products[0].plans[1].graceDays: must be an integer >= 0');
    writeFileSync(path, 'products: [\n  - id: x\n');
    const yamlErr = await startLedgerApp({ env: { CATALOG_PATH: path } }).then(() => null, (e: unknown) => e as Error);
    expect(yamlErr?.message).toMatch(/not valid YAML\/JSON at line \d+/);
  });

  it('validates configuration at boot, naming each bad variable', () => {
    let error: unknown;
    try {
      readLedgerServiceConfig({ PORT: '80a', SQLITE_SYNCHRONOUS: 'SOMETIMES', QUERY_WAIT_MS: '-1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['PORT', 'SQLITE_SYNCHRONOUS', 'QUERY_WAIT_MS']);
    expect((error as Error).message).toContain('PORT: must be an integer from 1 to 65535 (got "80a")');
    expect(readLedgerServiceConfig({})).toMatchObject({ PORT: 8080, DATA_DIR: './data', SQLITE_SYNCHRONOUS: 'FULL', READ_DB: 'sqlite' });
  });

  it('records expiry once validity and grace have passed, once', async () => {
    t = await startLedgerApp({ now: '2026-01-01T00:00:00Z' });
    const g = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'DSG-PRO', validFrom: '2026-01-01T00:00:00Z' }); // 1 month + 7 days grace
    const sweeper = t.app.get(ExpirySweeper);
    const expiries = async () => (await t!.store.readStream(`entitlement-${g.body.entitlementId}`)).filter((e) => e.type === 'EntitlementExpired');
    // The sweeper finds candidates in the read models: they have the grant before any sweep, so a sweep that finds nothing means "not due".
    expect((await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${g.body.position}`)).body.items).toHaveLength(1);
    t.clock.set('2026-02-05T00:00:00Z'); // past validity, inside grace
    expect(await sweeper.sweep()).toBe(0);
    expect(await expiries()).toEqual([]);
    t.clock.set('2026-02-08T00:00:00Z'); // past grace
    expect(await sweeper.sweep()).toBe(1);
    // Swept again before and after the read models have the expiry: still one event.
    expect(await sweeper.sweep()).toBe(0);
    const [expired] = await expiries();
    await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${expired!.position}`);
    expect(await sweeper.sweep()).toBe(0);
    expect(await expiries()).toHaveLength(1);
    const view = (await t.http('GET', `/v1/entitlements/${g.body.entitlementId}`)).body;
    expect(view.status).toBe('expired');
    const renewed = await t.http('POST', `/v1/entitlements/${g.body.entitlementId}/renew`, {});
    expect(renewed.body.entitlement).toMatchObject({ status: 'active', validUntil: '2026-03-08T00:00:00.000Z' });
  });
});
