import { Controller, Get, Inject, Logger, Module, Req, Res, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { Public } from '../identity/access';
import { ConfigError, env } from '../config/config';
import { HTML_SECURITY_HEADERS } from './bootstrap';

/** The console's own settings (the identity provider itself is OIDC_ISSUER, shared with the API). */
export const consoleConfigSpec = {
  CONSOLE_DIR: env.string({ default: '', description: 'The built web console to serve at /console (default: dist/apps/console, which `npm run build` and `npm start` fill)' }),
  CONSOLE_OIDC_CLIENT_ID: env.string({
    default: '',
    description: 'Operators sign in to the console with the identity provider (OIDC_ISSUER): the public client id registered there, with redirect URI <this service>/console/ (authorization code + PKCE); empty: API keys and pasted tokens only',
  }),
  CONSOLE_OIDC_SCOPE: env.string({ default: 'openid profile email', description: 'Scopes the console asks the identity provider for' }),
};

/** What the console's page may know before anyone signs in: how to sign in with the identity provider. */
export interface ConsoleSettings {
  readonly dir: string | null;
  readonly oidc: { readonly issuer: string; readonly clientId: string; readonly scope: string; readonly audience: string } | null;
}

export function consoleSettings(config: { readonly CONSOLE_DIR: string; readonly CONSOLE_OIDC_CLIENT_ID: string; readonly CONSOLE_OIDC_SCOPE: string; readonly OIDC_ISSUER: string; readonly OIDC_AUDIENCE: string }): ConsoleSettings {
  if (config.CONSOLE_OIDC_CLIENT_ID && !config.OIDC_ISSUER) throw new ConfigError([{ variable: 'CONSOLE_OIDC_CLIENT_ID', message: 'needs OIDC_ISSUER (and OIDC_AUDIENCE, OIDC_JWKS_URL): the identity provider the console signs in with' }]);
  return {
    dir: config.CONSOLE_DIR || defaultConsoleDir(),
    oidc: config.CONSOLE_OIDC_CLIENT_ID ? { issuer: config.OIDC_ISSUER.replace(/\/$/, ''), clientId: config.CONSOLE_OIDC_CLIENT_ID, scope: config.CONSOLE_OIDC_SCOPE, audience: config.OIDC_AUDIENCE } : null,
  };
}

/**
 * The console's pages: scripts and styles from here only (no inline script);
 * it calls this service, and the identity provider (its discovery and token
 * endpoints' origins) when operators sign in there.
 */
function consoleHeaders(idpOrigins: readonly string[]): Record<string, string> {
  const idp = idpOrigins.map((o) => ` ${o}`).join('');
  return {
    ...HTML_SECURITY_HEADERS,
    'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'${idp}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'${idp}`,
  };
}

/** Where the console's browser code will talk to the identity provider: the issuer, and its token endpoint (which may live elsewhere). */
async function idpOrigins(issuer: string, logger: Logger): Promise<string[]> {
  const origins = new Set([new URL(issuer).origin]);
  try {
    const r = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
    const d = (await r.json()) as { token_endpoint?: string };
    if (d.token_endpoint) origins.add(new URL(d.token_endpoint).origin);
  } catch (err) {
    logger.warn(`the identity provider's OpenID configuration (${issuer}/.well-known/openid-configuration) could not be read (${(err as Error).message}): the console may call only ${issuer} until the next start`);
  }
  return [...origins];
}

const CONSOLE_SETTINGS = Symbol('CONSOLE_SETTINGS');

/** The console's files, read once at start (a built SPA is a few hundred KB). */
interface ConsoleFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  readonly immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where `npm run build` puts the console: dist/apps/console under the repository (or image) root. */
export function defaultConsoleDir(from = __dirname): string | null {
  for (let d = from; ; d = dirname(d)) {
    const candidate = join(d, 'dist', 'apps', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(d) === d) return null;
  }
}

function fileOf(body: Buffer, type: string, immutable: boolean): ConsoleFile {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, immutable };
}

function readTree(root: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(root, p).split(sep).join('/');
        if (name.startsWith('.')) continue;
        files.set(rel, fileOf(readFileSync(p), TYPES[extname(name)] ?? 'application/octet-stream', rel.startsWith('assets/')));
      }
    }
  };
  walk(root);
  return files;
}

/**
 * The web console (apps/console, a React single-page app) at /console: its
 * files hold no data and no credential, so they are public; every call the
 * console makes goes to the public API with the viewer's own credential.
 * Hashed assets are cached for a year, the page itself revalidated. A path
 * with no file is one of the app's own pages and gets the app.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController implements OnModuleInit {
  private files = new Map<string, ConsoleFile>();
  private readonly logger = new Logger('console');
  private headers: Record<string, string>;

  constructor(@Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings) {
    this.headers = consoleHeaders(settings.oidc ? [new URL(settings.oidc.issuer).origin] : []);
  }

  async onModuleInit(): Promise<void> {
    if (this.settings.oidc) this.headers = consoleHeaders(await idpOrigins(this.settings.oidc.issuer, this.logger));
    const dir = this.settings.dir;
    if (!dir || !existsSync(join(dir, 'index.html'))) {
      this.logger.warn(`the web console is not built${dir ? ` (no ${join(dir, 'index.html')})` : ''}: /console answers 404 until \`npm run build\` builds it`);
      return;
    }
    this.files = readTree(dir);
    // How to sign in, for the page (no secret: a public client id and where its provider is).
    this.files.set('config.json', fileOf(Buffer.from(JSON.stringify({ oidc: this.settings.oidc })), TYPES['.json']!, false));
  }

  @Get()
  @Public('the web console\'s page: no data, every call it makes carries the viewer\'s credential')
  page(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    // /console → /console/ so that the page's relative asset URLs resolve under it.
    if (!req.url.split('?')[0]!.endsWith('/')) {
      void reply.status(308).header('location', '/console/').send();
      return;
    }
    this.send(req, reply, 'index.html');
  }

  @Get('*')
  @Public('the web console\'s files and pages: no data, every call it makes carries the viewer\'s credential')
  file(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    let path: string;
    try {
      path = decodeURIComponent(req.url.split('?')[0]!.replace(/^\/console\/?/, ''));
    } catch {
      path = 'assets/(not a path)';
    }
    if (this.files.has(path)) return this.send(req, reply, path);
    // A missing asset is a 404; any other path is a page of the app (client-side routing).
    if (path.startsWith('assets/') || extname(path) !== '') {
      void reply.status(404).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ statusCode: 404, code: 'NOT_FOUND', message: `the console has no file ${path}` }));
      return;
    }
    this.send(req, reply, 'index.html');
  }

  private send(req: FastifyRequest, reply: FastifyReply, path: string): void {
    const f = this.files.get(path);
    if (!f) {
      void reply
        .status(404)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ statusCode: 404, code: 'CONSOLE.NOT_BUILT', message: 'the web console is not built: run `npm run build` (npm start builds it too) and restart' }));
      return;
    }
    void reply.headers(this.headers);
    void reply.header('content-type', f.type).header('etag', f.etag).header('cache-control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (req.headers['if-none-match'] === f.etag) {
      void reply.status(304).send();
      return;
    }
    void reply.status(200).send(f.body);
  }
}

@Module({})
export class ConsoleModule {
  /** Serves the console (see consoleSettings). */
  static register(settings: ConsoleSettings): DynamicModule {
    return { module: ConsoleModule, controllers: [ConsoleController], providers: [{ provide: CONSOLE_SETTINGS, useValue: settings }] };
  }
}
