import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastifyAdapter } from './bootstrap';
import { ConsoleModule, consoleSettings } from './console';
import { ConfigError } from '../config/config';

/** The console's files as the ledger serves them, from a built tree on disk. */
describe('the web console at /console', () => {
  let dir: string;
  let app: NestFastifyApplication;
  const get = (url: string, headers: Record<string, string> = {}) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-console-files-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(dir, '.sources'), 'the build stamp');
    const moduleRef = await Test.createTestingModule({ imports: [ConsoleModule.register({ dir, oidc: null })] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(fastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends /console to /console/, and the page with its security headers, revalidated', async () => {
    expect((await get('/console')).headers['location']).toBe('/console/');
    const page = await get('/console/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<div id="root">');
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'x-frame-options': 'DENY' });
    expect(page.headers['content-security-policy']).toContain("script-src 'self';");
    expect((await get('/console/', { 'if-none-match': String(page.headers['etag']) })).statusCode).toBe(304);
  });

  it('serves hashed assets for a year, any page of the app as the app, and a missing file as a 404', async () => {
    const js = await get('/console/assets/index-abc.js');
    expect({ status: js.statusCode, type: js.headers['content-type'], cache: js.headers['cache-control'] }).toEqual({ status: 200, type: 'text/javascript; charset=utf-8', cache: 'public, max-age=31536000, immutable' });
    expect((await get('/console/customers/acme?search=a')).body).toContain('<div id="root">');
    for (const url of ['/console/assets/nope.js', '/console/../package.json']) {
      expect({ url, status: (await get(url)).statusCode }).toEqual({ url, status: 404 });
    }
    // A malformed path is the caller's error, never the server's.
    expect((await get('/console/assets/%E0%A4%A')).statusCode).toBe(400);
    // Files the build keeps beside the bundle (its stamp) are not served.
    expect((await get('/console/.sources')).body).not.toContain('the build stamp');
    expect(JSON.parse((await get('/console/config.json')).body)).toEqual({ oidc: null });
  });

  it('says when the console is not built', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ConsoleModule.register({ dir: join(dir, 'nowhere'), oidc: null })] }).compile();
    const bare = moduleRef.createNestApplication<NestFastifyApplication>(fastifyAdapter());
    await bare.init();
    const r = await bare.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/console/' });
    await bare.close();
    expect({ status: r.statusCode, code: JSON.parse(r.body).code }).toEqual({ status: 404, code: 'CONSOLE.NOT_BUILT' });
  });

  it('signs in with the identity provider only when the API accepts its tokens', () => {
    expect(() => consoleSettings({ CONSOLE_DIR: dir, CONSOLE_OIDC_CLIENT_ID: 'c', CONSOLE_OIDC_SCOPE: 'openid', OIDC_ISSUER: '', OIDC_AUDIENCE: '' })).toThrow(ConfigError);
    expect(consoleSettings({ CONSOLE_DIR: dir, CONSOLE_OIDC_CLIENT_ID: 'c', CONSOLE_OIDC_SCOPE: 'openid', OIDC_ISSUER: 'https://idp.example/', OIDC_AUDIENCE: 'api' }).oidc).toEqual({ issuer: 'https://idp.example', clientId: 'c', scope: 'openid', audience: 'api' });
  });
});
