import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, start, until, type Running } from '@el/testing';
import { startTestIdp, type TestIdp } from '@el/identity/testing';
import type { paths } from '../src/api/openapi';
import type { DecisionPage, HistoryPage } from '../src/api/server-types';

/**
 * The console in a real browser (Debian's chromium, driven by playwright-core)
 * against the real embedded process, with data seeded through the same typed
 * client the console uses. Every page is checked with axe-core (no serious or
 * critical violation); every test saves a screenshot (test-output/screenshots;
 * UPDATE_SCREENSHOTS=1 also copies them to docs/console for the README) and a
 * Playwright trace (test-output/traces) to open with `npx playwright-core show-trace`;
 * a test that fails leaves `<name>-failed.png` and `-failed.zip`. The tests are
 * one story in order (the seat assigned in one is the conflict of the next).
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const OUT = join(ROOT, 'apps', 'console', 'test-output');
const DOCS = join(ROOT, 'docs', 'console');
/** The screenshots the README shows (the others are test artifacts only). */
const README_SHOTS = new Set(['customer-entitlements', 'entitlement-seats', 'seat-conflict', 'usage', 'approvals', 'entitlement-timeline', 'as-of', 'customer', 'audit', 'phone-entitlement']);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

if (!CHROMIUM && process.env['CI'] === 'true') throw new Error('CI=true but no chromium: install Debian\'s chromium package (.ci/run does) or set CHROMIUM_PATH');
const suite = CHROMIUM ? describe : describe.skip;
if (!CHROMIUM) process.stderr.write('console e2e skipped: no chromium (apt-get install chromium, or set CHROMIUM_PATH)\n');

type Client = ReturnType<typeof createClient<paths>>;

suite('the web console in a real browser', () => {
  let dataDir: string;
  let sys: Running;
  let browser: Browser;
  let admin: Client;
  let idp: TestIdp;
  const keys: Record<'customerAdmin' | 'operator' | 'auditor' | 'globexAdmin', string> = { customerAdmin: '', operator: '', auditor: '', globexAdmin: '' };
  /** acme's Designer Pro (1 seat, metered render_minutes), its Analytics line (upgraded), globex's Analytics. */
  const ids = { designer: '', analytics: '', globex: '' };

  const must = async <T>(what: string, answer: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> => {
    const r = await answer;
    if (!r.response.ok) throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
    return r.data as T;
  };
  /** A route the document describes in prose: typed as the server declares it (src/api/server-types). */
  const prose = <T>(what: string, answer: Promise<{ data?: unknown; error?: unknown; response: Response }>) => must(what, answer) as Promise<T>;

  beforeAll(async () => {
    mkdirSync(join(OUT, 'screenshots'), { recursive: true });
    mkdirSync(join(OUT, 'traces'), { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'el-console-'));
    // Operators sign in at this identity provider; Olga is one.
    idp = await startTestIdp({ clientId: 'ledger-console', claims: { sub: 'olga', email: 'olga@example.com', roles: ['operator'] } });
    sys = await start({ DATA_DIR: dataDir, OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: 'entitlement-ledger', OIDC_JWKS_URL: idp.jwksUrl, CONSOLE_OIDC_CLIENT_ID: 'ledger-console' });
    if (!sys.admin['authorization']) throw new Error(`the embedded process did not start:\n${sys.output()}`);
    admin = createClient<paths>({ baseUrl: sys.url, headers: sys.admin });

    const key = async (role: 'customer-admin' | 'operator' | 'auditor', customerId?: string) =>
      (await must(`a ${role} key`, admin.POST('/v1/api-keys', { body: { name: `console e2e ${role}`, role, ...(customerId ? { customerId } : {}) } }))).key;
    keys.customerAdmin = await key('customer-admin', 'acme');
    keys.globexAdmin = await key('customer-admin', 'globex');
    keys.operator = await key('operator');
    keys.auditor = await key('auditor');

    // acme's order of 1 October, its upgrade of 1 November; globex's order.
    const o1 = await must('order SO-1', admin.POST('/v1/orders', { body: { orderId: 'SO-1', customerId: 'acme', effectiveAt: '2026-10-01T00:00:00Z', lines: [{ lineId: '10', sku: 'ANL-PRO', quantity: 1, action: 'new' }] } }));
    ids.analytics = o1.lines[0]!.entitlementId;
    // Designer Pro runs month by month: bought now, so that it is in force.
    const o4 = await must('order SO-4', admin.POST('/v1/orders', { body: { orderId: 'SO-4', customerId: 'acme', lines: [{ lineId: '10', sku: 'DSG-PRO', quantity: 1, action: 'new' }] } }));
    ids.designer = o4.lines[0]!.entitlementId;
    await must('order SO-2', admin.POST('/v1/orders', { body: { orderId: 'SO-2', customerId: 'acme', effectiveAt: '2026-11-01T00:00:00Z', lines: [{ lineId: '10', sku: 'ANL-ENT', quantity: 1, action: 'upgrade', entitlementId: ids.analytics }] } }));
    const o3 = await must('order SO-3', admin.POST('/v1/orders', { body: { orderId: 'SO-3', customerId: 'globex', lines: [{ lineId: '10', sku: 'ANL-PRO', quantity: 3, action: 'new' }] } }));
    ids.globex = o3.lines[0]!.entitlementId;

    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await idp?.close();
    sys?.child.kill('SIGTERM');
    await sys?.exited;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Contexts of the running test; one still open after it means the test failed before done(). */
  const open_: { context: BrowserContext; page: Page; test: string }[] = [];
  afterEach(async () => {
    for (const o of open_.splice(0)) {
      await o.page.screenshot({ path: join(OUT, 'screenshots', `${o.test}-failed.png`), fullPage: true }).catch(() => undefined);
      await o.context.tracing.stop({ path: join(OUT, 'traces', `${o.test}-failed.zip`) }).catch(() => undefined);
      await o.context.close().catch(() => undefined);
    }
  });

  /** A fresh browser context (its own session storage) in New York time, traced. */
  async function open(credential: string | null, test: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; context: BrowserContext; done(): Promise<void> }> {
    const context = await browser.newContext({ viewport, timezoneId: 'America/New_York', locale: 'en-US', acceptDownloads: true });
    await context.tracing.start({ screenshots: true, snapshots: true });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()) && problems.push(`console: ${m.text()}`));
    const entry = { context, page, test };
    open_.push(entry);
    await page.goto(`${sys.url}/console/`);
    if (credential) await signIn(page, credential);
    return {
      page,
      context,
      async done() {
        open_.splice(open_.indexOf(entry), 1);
        await context.tracing.stop({ path: join(OUT, 'traces', `${test}.zip`) });
        await context.close();
        expect(problems).toEqual([]);
      },
    };
  }

  async function signIn(page: Page, credential: string): Promise<void> {
    await page.getByLabel('API key or access token').fill(credential);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  async function shot(page: Page, name: string): Promise<void> {
    const file = join(OUT, 'screenshots', `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (process.env['UPDATE_SCREENSHOTS'] === '1' && README_SHOTS.has(name)) {
      mkdirSync(DOCS, { recursive: true });
      copyFileSync(file, join(DOCS, `${name}.png`));
    }
  }

  /** axe-core on the page as it is: no serious or critical violation. */
  async function accessible(page: Page, where: string): Promise<void> {
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
    });
    expect({ where, violations }).toEqual({ where, violations: [] });
  }

  it('signs a customer admin in and lists its entitlements: plan, status, validity, grace, features', async () => {
    const { page, done } = await open(null, 'sign-in');
    await accessible(page, 'sign-in');
    await shot(page, 'sign-in');
    // A bad key is refused plainly, and nothing is kept.
    await page.getByLabel('API key or access token').fill('elk_0000000000000000_nope');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('Sign-in failed').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // By keyboard alone: the field, Enter; then the skip link is the first stop and lands on the content.
    await page.getByLabel('API key or access token').fill(keys.customerAdmin);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Entitlements of acme' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    const table = page.getByRole('region', { name: 'Entitlements of acme' });
    await table.getByRole('link', { name: 'designer · pro' }).waitFor();
    await table.getByRole('link', { name: 'analytics · enterprise' }).waitFor();
    // Times in the viewer's zone, the UTC instant on hover.
    const title = await table.locator('time').first().getAttribute('title');
    expect(title).toMatch(/ UTC$/);
    expect(page.url()).not.toContain('elk_');
    await accessible(page, 'entitlements');
    await shot(page, 'customer-entitlements');
    await done();
  });

  it('an operator signs in with the identity provider (authorization code with PKCE), and the code leaves the address bar', async () => {
    const { page, done } = await open(null, 'sso');
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(page.url()).toBe(`${sys.url}/console/`);
    await page.getByText('olga@example.com').waitFor();
    await page.getByRole('link', { name: 'Approvals' }).waitFor();
    // The provider's access token is the credential, in this tab only.
    expect(await page.evaluate(() => sessionStorage.getItem('el.console.credential'))).toMatch(/^eyJ/);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).waitFor();
    await done();
  });

  it('refuses an answer from the identity provider that does not belong to the sign-in under way', async () => {
    const { page, done } = await open(null, 'sso-state');
    await page.evaluate(() => sessionStorage.setItem('el.console.oidc.pending', JSON.stringify({ state: 'mine', verifier: 'v'.repeat(43), returnTo: '/' })));
    await page.goto(`${sys.url}/console/?code=stolen&state=someone-elses`);
    await page.getByRole('alert').getByText(/does not belong to this sign-in/).waitFor();
    expect(page.url()).toBe(`${sys.url}/console/`);
    expect(await page.evaluate(() => sessionStorage.getItem('el.console.credential'))).toBeNull();
    // An answer nobody asked for in this tab leaves the address bar too.
    await page.goto(`${sys.url}/console/?code=unasked&state=x`);
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).waitFor();
    expect(page.url()).toBe(`${sys.url}/console/`);
    await done();
  });

  it('a customer admin assigns a seat and sees it', async () => {
    const { page, done } = await open(keys.customerAdmin, 'assign-seat');
    await page.getByRole('link', { name: 'designer · pro' }).click();
    await page.getByRole('heading', { name: /designer · pro/ }).waitFor();
    await page.getByText('No seat is assigned yet.').waitFor();
    await page.getByLabel('User id', { exact: true }).fill('ann@acme.com');
    await page.getByRole('button', { name: 'Assign seat' }).click();
    await page.getByRole('status').getByText('Seat assigned to ann@acme.com.').waitFor();
    await page.getByRole('region', { name: 'Seat assignments' }).getByRole('cell', { name: 'ann@acme.com', exact: true }).waitFor();
    await page.getByText('1 of 1 assigned').waitFor();
    // A device for ann, and the license token to download.
    await page.getByLabel('Device id').fill('laptop-ann');
    await page.getByLabel('User id (optional)').fill('ann@acme.com');
    await page.getByRole('button', { name: 'Activate device' }).click();
    await page.getByRole('region', { name: 'Active devices' }).getByRole('cell', { name: 'laptop-ann', exact: true }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download license token' }).click();
    const token = await download;
    expect(token.suggestedFilename()).toBe('license-acme.jwt');
    expect(readFileSync(await token.path(), 'utf8')).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    await accessible(page, 'entitlement');
    await shot(page, 'entitlement-seats');
    await done();
  });

  it('a seat conflict and a concurrent change are shown plainly, and nothing is written', async () => {
    const { page, done } = await open(keys.customerAdmin, 'seat-conflict');
    await page.goto(`${sys.url}/console/entitlements/${ids.designer}`);
    await page.getByRole('region', { name: 'Seat assignments' }).getByRole('cell', { name: 'ann@acme.com', exact: true }).waitFor();
    // The only seat is taken: the API's 409 in words.
    await page.getByLabel('User id', { exact: true }).fill('bob@acme.com');
    await page.getByRole('button', { name: 'Assign seat' }).click();
    const conflict = page.getByRole('alert');
    await conflict.getByText('That conflicts with the current state').waitFor();
    expect(await conflict.textContent()).toMatch(/seat/i);
    await shot(page, 'seat-conflict');
    // Someone else releases ann meanwhile: this page's revision is stale, and it says so.
    const seen = await must('the entitlement', admin.GET('/v1/entitlements/{id}', { params: { path: { id: ids.designer } } }));
    const released = await must('release ann', admin.DELETE('/v1/entitlements/{id}/seat-assignments/{userId}', { params: { path: { id: ids.designer, userId: 'ann@acme.com' } }, headers: { 'if-match': `"${seen.revision}"` } }));
    await page.getByRole('button', { name: 'Release ann@acme.com' }).click();
    await page.getByRole('alert').getByText('Someone changed this in the meantime').waitFor();
    // ...and shows the entitlement as it is now: ann's seat is gone.
    await page.getByText('No seat is assigned yet.').waitFor();
    const after = await must('the entitlement', admin.GET('/v1/entitlements/{id}', { params: { path: { id: ids.designer } } }));
    expect(after.revision).toBe(released.revision);
    expect(after.assignedUsers).toEqual([]);
    await done();
  });

  it('shows a usage chart against the cap after usage is ingested, with the upgrade prompt near the cap', async () => {
    const now = new Date().toISOString();
    const ingested = await must(
      'usage',
      admin.POST('/v1/usage', {
        body: { events: [1, 2, 3].map((i) => ({ specversion: '1.0', id: `e2e-${i}`, source: 'urn:app:designer', type: 'io.ledger.usage.v1', subject: 'acme', time: now, data: { feature: 'render_minutes', quantity: [200, 150, 150][i - 1] } })) } as never,
      }),
    );
    expect(ingested).toMatchObject({ accepted: 3, rejected: 0 });
    const { page, done } = await open(keys.customerAdmin, 'usage');
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage of acme' }).waitFor();
    const chart = page.getByRole('img', { name: /render_minutes: 500 of 600 used/ });
    await chart.waitFor();
    // The running total is drawn (an area with a shape), with the cap as a line.
    expect(await chart.locator('.recharts-area path[d]').first().getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+/);
    await chart.getByText('cap 600').waitFor();
    await page.getByRole('note').getByText('Near the render_minutes cap (83 %).').waitFor();
    await accessible(page, 'usage');
    await shot(page, 'usage');
    // The prompt leads to a request for an upgrade of that entitlement.
    await page.getByRole('note').getByRole('link', { name: 'Request an upgrade' }).first().click();
    await page.getByRole('heading', { name: 'Access requests of acme' }).waitFor();
    expect(await page.getByLabel('Why').inputValue()).toContain('render_minutes');
    // ...for that entitlement: the next plan up of its product is chosen (a change of its plan, not a second entitlement).
    expect(await page.getByLabel('What').inputValue()).toBe('DSG-ENT');
    await page.getByText(/a plan here changes its plan/).waitFor();
    await done();
  });

  it('a customer admin asks for a plan; an operator approves it and sees the new entitlement and its timeline', async () => {
    const asker = await open(keys.customerAdmin, 'request');
    await asker.page.getByRole('link', { name: 'Requests' }).click();
    await asker.page.getByLabel('What').selectOption('VLT-PRO');
    await asker.page.getByLabel('Why').fill('The security team needs the vault');
    await asker.page.getByRole('button', { name: 'Send request' }).click();
    await asker.page.getByRole('status').getByText(/Request .* sent: pending/).waitFor();
    await asker.page.getByRole('region', { name: 'pending requests' }).getByText('The security team needs the vault').waitFor();
    await accessible(asker.page, 'requests');
    await shot(asker.page, 'customer-requests');
    await asker.done();

    const { page, done } = await open(keys.operator, 'approve');
    await page.getByRole('link', { name: 'Approvals' }).click();
    const row = page.getByRole('row').filter({ hasText: 'The security team needs the vault' });
    await row.waitFor();
    await accessible(page, 'approvals');
    await shot(page, 'approvals');
    await row.getByLabel(/Comment or reason/).fill('approved for the security team');
    await row.getByRole('button', { name: 'Approve' }).click();
    const open_ = page.getByRole('link', { name: 'Open the entitlement' });
    await open_.waitFor();
    const entitlementId = (await open_.getAttribute('href'))!.split('/').pop()!;
    // The audit log reads the store in-process: wait until it holds the grant, then look.
    await until('the grant in the audit history', async () => (await prose<HistoryPage>('history', admin.GET('/v1/audit/history', { params: { query: { entitlementId } } }))).items.length > 0, { timeoutMs: 10_000, intervalMs: 100 });
    await open_.click();
    await page.getByRole('heading', { name: /vault · pro/ }).waitFor();
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByRole('cell', { name: 'EntitlementGranted' }).waitFor();
    expect(await timeline.textContent()).toContain('approved for the security team');
    await accessible(page, 'entitlement (operator)');
    await shot(page, 'entitlement-timeline');
    await done();
  });

  it('the as-of picker shows the state before an upgrade', async () => {
    const { page, done } = await open(keys.operator, 'as-of');
    await page.goto(`${sys.url}/console/entitlements/${ids.analytics}`);
    await page.getByRole('heading', { name: /analytics · enterprise/ }).waitFor();
    await page.getByLabel(/^Moment/).fill('2026-10-15T12:00');
    await page.getByRole('button', { name: 'Show state' }).click();
    const past = page.getByTestId('asof-state');
    await past.getByText('ANL-PRO', { exact: false }).waitFor();
    expect(await past.textContent()).not.toContain('ANL-ENT');
    // Noon in New York (the viewer's zone) is 16:00 UTC, shown on hover.
    const moment = past.locator('time').first();
    expect({ text: await moment.textContent(), utc: await moment.getAttribute('title') }).toEqual({ text: 'Oct 15, 2026, 12:00 PM', utc: '2026-10-15 16:00:00 UTC' });
    // Before the first order, there was nothing.
    await page.getByLabel(/^Moment/).fill('2026-09-15T12:00');
    await page.getByRole('button', { name: 'Show state' }).click();
    await page.getByRole('alert').getByText('Not found').waitFor();
    await page.getByLabel(/^Moment/).fill('2026-10-15T12:00');
    await page.getByRole('button', { name: 'Show state' }).click();
    await past.getByText('ANL-PRO', { exact: false }).waitFor();
    await accessible(page, 'as-of');
    await shot(page, 'as-of');
    await done();
  });

  it('an operator finds a customer and sees its entitlements, usage, requests and orders', async () => {
    const { page, done } = await open(keys.operator, 'customers');
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByLabel('Customer id starts with').fill('ac');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'acme' }).waitFor();
    expect(await page.getByRole('link', { name: 'globex' }).count()).toBe(0);
    await accessible(page, 'customers');
    await shot(page, 'customers');
    await page.getByRole('link', { name: 'acme' }).click();
    await page.getByRole('heading', { name: 'acme', exact: true }).waitFor();
    await page.getByRole('region', { name: 'Orders' }).getByRole('cell', { name: 'OrderFulfilled' }).first().waitFor();
    await page.getByRole('img', { name: /render_minutes/ }).waitFor();
    await accessible(page, 'customer');
    await shot(page, 'customer');
    await done();
  });

  it('an operator suspends and reinstates with a reason, each guarded by the revision, and the timeline says who and why', async () => {
    const { page, done } = await open(keys.operator, 'operator-actions');
    await page.goto(`${sys.url}/console/entitlements/${ids.designer}`);
    const heading = page.getByRole('heading', { name: /designer · pro/ });
    await heading.getByText('active').waitFor();
    await page.getByLabel('Reason', { exact: true }).fill('invoice 4711 overdue');
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('status').getByText('Suspended.').waitFor();
    await heading.getByText('suspended').waitFor();
    const history = async () => (await prose<HistoryPage>('history', admin.GET('/v1/audit/history', { params: { query: { entitlementId: ids.designer } } }))).items.map((i) => i.type);
    await until('the suspension in the audit history', async () => (await history()).includes('EntitlementSuspended'), { timeoutMs: 10_000, intervalMs: 100 });
    await page.getByRole('button', { name: 'Refresh changes to this entitlement' }).click();
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByRole('cell', { name: 'invoice 4711 overdue' }).waitFor();
    expect(await timeline.textContent()).toContain('EntitlementSuspended');
    // Revoking asks again; keeping it changes nothing.
    await page.getByLabel('Reason', { exact: true }).fill('wrong customer');
    await page.getByRole('button', { name: 'Revoke…' }).click();
    await page.getByRole('alert').getByText('Revocation is final').waitFor();
    await page.getByRole('button', { name: 'Keep it' }).click();
    await heading.getByText('suspended').waitFor();
    await page.getByLabel('Reason', { exact: true }).fill('paid');
    await page.getByRole('button', { name: 'Reinstate' }).click();
    await page.getByRole('status').getByText('Reinstated.').waitFor();
    await heading.getByText('active').waitFor();
    const now = await must('the entitlement', admin.GET('/v1/entitlements/{id}', { params: { path: { id: ids.designer } } }));
    expect(now.status).toBe('active');
    await done();
  });

  it('lists page: Next and Previous walk the customers twenty at a time', async () => {
    for (let i = 0; i < 23; i++) {
      const n = String(i).padStart(2, '0');
      await must(`order of page-${n}`, admin.POST('/v1/orders', { body: { orderId: `SO-P${n}`, customerId: `page-${n}`, lines: [{ lineId: '1', sku: 'ANL-FREE', quantity: 1, action: 'new' }] } }));
    }
    const { page, done } = await open(keys.operator, 'pagination');
    await page.goto(`${sys.url}/console/customers?search=page-`);
    const rows = page.getByRole('region', { name: 'Customers' }).getByRole('row');
    await page.getByRole('link', { name: 'page-19' }).waitFor();
    expect(await rows.count()).toBe(21);
    expect(await page.getByRole('button', { name: '← Previous' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByRole('link', { name: 'page-22' }).waitFor();
    expect(await rows.count()).toBe(4);
    expect(await page.getByText('Page 2').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: '← Previous' }).click();
    await page.getByRole('link', { name: 'page-00' }).waitFor();
    // Another search starts on its first page.
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByRole('link', { name: 'page-22' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('link', { name: 'acme' }).waitFor();
    expect(await page.getByText('Page 1').count()).toBe(1);
    expect(await page.getByLabel('Customer id starts with').inputValue()).toBe('');
    await done();
  });

  it("a customer admin cannot reach another customer's pages", async () => {
    const { page, done } = await open(keys.customerAdmin, 'tenant');
    await page.goto(`${sys.url}/console/entitlements/${ids.globex}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.goto(`${sys.url}/console/customers/globex`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.content()).not.toContain(ids.globex);
    // The other way round too: globex's admin sees none of acme.
    const other = await open(keys.globexAdmin, 'tenant-globex');
    await other.page.goto(`${sys.url}/console/entitlements/${ids.designer}`);
    await other.page.getByRole('heading', { name: 'Not found' }).waitFor();
    await other.page.goto(`${sys.url}/console/`);
    await other.page.getByRole('link', { name: 'analytics · pro' }).waitFor();
    expect(await other.page.getByRole('link', { name: 'designer · pro' }).count()).toBe(0);
    await accessible(page, 'not found');
    await shot(page, 'tenant-not-found');
    await other.done();
    await done();
  });

  it('an auditor sees the signed tree head verify, verifies the store, exports a customer and replays a decision', async () => {
    // A denial for the decision log.
    const denied = await must('a check', admin.POST('/v1/check', { body: { customerId: 'acme', feature: 'no_such_feature' } }));
    expect(denied.allowed).toBe(false);
    await until('the denial in the decision log', async () => (await prose<DecisionPage>('decisions', admin.GET('/v1/audit/decisions', { params: { query: {} } }))).items.length > 0, { timeoutMs: 10_000, intervalMs: 100 });
    const { page, done } = await open(keys.auditor, 'audit');
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    await page.getByText(/Signature verified in this browser with key audit-/).waitFor();
    await page.getByRole('button', { name: 'Verify now' }).click();
    await page.getByText(/The store verifies: \d+ events/).waitFor({ timeout: 60_000 });
    const download = page.waitForEvent('download');
    await page.getByLabel('Customer').fill('acme');
    await page.getByRole('button', { name: 'Download export' }).click();
    const file = await (await download).path();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(1);
    expect(JSON.stringify(lines)).not.toContain('globex');
    const row = page.getByRole('row').filter({ hasText: 'no_such_feature' }).first();
    await row.getByRole('button', { name: 'Replay' }).click();
    await page.getByText('matches what was answered').waitFor();
    await accessible(page, 'audit');
    await shot(page, 'audit');
    await done();
  });

  it('works on a phone-width screen: every main page passes axe there too', async () => {
    const { page, done } = await open(keys.operator, 'phone', { width: 390, height: 844 });
    for (const [path, ready] of [
      [`/console/entitlements/${ids.designer}`, () => page.getByRole('region', { name: 'Changes to this entitlement' })],
      ['/console/approvals', () => page.getByRole('region', { name: 'pending requests' }).or(page.getByText('No pending requests.'))],
      ['/console/customers/acme', () => page.getByRole('region', { name: 'Orders' })],
      ['/console/audit', () => page.getByRole('region', { name: 'Decision log' })],
    ] as const) {
      await page.goto(`${sys.url}${path}`);
      await ready().waitFor();
      // Everything on the page has loaded (no "Loading …" line left).
      await until(`${path} to finish loading`, async () => (await page.getByText(/^\s*Loading /).count()) === 0, { timeoutMs: 15_000, intervalMs: 100 });
      // Nothing wider than the screen but scrollable tables.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect({ path, overflow }).toEqual({ path, overflow: 0 });
      await accessible(page, `${path} at 390 px`);
    }
    await page.goto(`${sys.url}/console/entitlements/${ids.designer}`);
    await page.getByRole('heading', { name: /designer · pro/ }).waitFor();
    await shot(page, 'phone-entitlement');
    await done();
  });
});

// Needs no browser: kept apart from the suite above, so it runs wherever the tests do.
describe('the console\'s typed client', () => {
  let dataDir: string;
  let sys: Running;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'el-console-openapi-'));
    sys = await start({ DATA_DIR: dataDir });
  });
  afterAll(async () => {
    sys?.child.kill('SIGTERM');
    await sys?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is the OpenAPI document the server publishes (UPDATE_OPENAPI_TYPES=1 regenerates it)', async () => {
    const spec = await (await fetch(`${sys.url}/docs/openapi.json`)).text();
    const dir = mkdtempSync(join(tmpdir(), 'el-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), spec);
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), join(dir, 'openapi.json'), '--default-non-nullable', 'false', '-o', join(dir, 'openapi.d.ts')], { stdio: 'pipe' });
    const generated = readFileSync(join(dir, 'openapi.d.ts'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const committed = join(ROOT, 'apps', 'console', 'src', 'api', 'openapi.d.ts');
    if (process.env['UPDATE_OPENAPI_TYPES'] === '1') writeFileSync(committed, generated);
    expect(readFileSync(committed, 'utf8') === generated ? 'up to date' : 'apps/console/src/api/openapi.d.ts differs from /docs/openapi.json: run the console e2e with UPDATE_OPENAPI_TYPES=1').toBe('up to date');
  });
});
