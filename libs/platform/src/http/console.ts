import { Controller, Get, Inject, Logger, Module, Req, Res, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { Public } from '../identity/access';
import { HTML_SECURITY_HEADERS } from './bootstrap';

const CONSOLE_DIR = Symbol('CONSOLE_DIR');

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

function readTree(root: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(root, p).split(sep).join('/');
        if (name.startsWith('.')) continue;
        const body = readFileSync(p);
        files.set(rel, { body, type: TYPES[extname(name)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, immutable: rel.startsWith('assets/') });
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

  constructor(@Inject(CONSOLE_DIR) private readonly dir: string | null) {}

  onModuleInit(): void {
    const dir = this.dir;
    if (!dir || !existsSync(join(dir, 'index.html'))) {
      this.logger.warn(`the web console is not built${dir ? ` (no ${join(dir, 'index.html')})` : ''}: /console answers 404 until \`npm run build\` builds it`);
      return;
    }
    this.files = readTree(dir);
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
    const path = decodeURIComponent(req.url.split('?')[0]!.replace(/^\/console\/?/, ''));
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
    void reply.headers(HTML_SECURITY_HEADERS);
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
  /** Serves the console from `dir` (default: the build's dist/apps/console, found from here). */
  static register(dir: string | null = process.env['CONSOLE_DIR'] || defaultConsoleDir()): DynamicModule {
    return { module: ConsoleModule, controllers: [ConsoleController], providers: [{ provide: CONSOLE_DIR, useValue: dir }] };
  }
}
