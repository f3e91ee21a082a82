#!/usr/bin/env node
// Compiles every app, library and tool to dist/ with SWC (decorator metadata on,
// CommonJS, source maps), rewriting the @el/* path aliases to relative imports.
// Type checking is separate (`npm run typecheck`); this only transpiles, so it
// takes about a second and `npm start` can build on every start. `--clean` empties dist/ first.
// The web console (apps/console, React) is bundled by Vite into dist/apps/console when its
// sources changed since the last bundle (a few seconds; otherwise nothing to do).
// Each service of the distributed mode is also bundled by esbuild into one file,
// dist/apps/<service>/main.js, when its inputs changed: a process that loads one file
// instead of about 3,000 starts in half the time (what a restart after a crash waits for).
import { transformFile } from '@swc/core';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist');
const quiet = process.argv.includes('--quiet');
const clean = process.argv.includes('--clean');
const started = performance.now();

const swcrc = JSON.parse(await readFile(join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const tsconfig = JSON.parse(await readFile(join(root, 'tsconfig.base.json'), 'utf8'));
const paths = Object.fromEntries(
  Object.entries(tsconfig.compilerOptions.paths).map(([alias, targets]) => [alias, targets.map((t) => join(root, t))]),
);

const SOURCE_ROOTS = ['apps', 'libs', 'tools'];
/** The services of the distributed mode, each also bundled into dist/apps/<service>/main.js. */
const BUNDLED_SERVICES = ['ledger', 'projector', 'enforcement', 'metering', 'audit'];
// Specs, fixtures and test-support folders are not built; libs/testing is (benchmarks start PostgreSQL with it).
const SKIP = [/\.spec\.ts$/, /\.d\.ts$/, /[/\\]__fixtures__[/\\]/, /[/\\]src[/\\]testing[/\\]/, /^apps[/\\]console[/\\]/];

async function* walk(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      yield* walk(p);
    } else if (e.name.endsWith('.ts') || (e.name.endsWith('.cjs') && !e.name.startsWith('jest.'))) {
      yield p;
    }
  }
}

const files = [];
for (const r of SOURCE_ROOTS) {
  for await (const f of walk(join(root, r))) {
    const rel = relative(root, f);
    if (!SKIP.some((re) => re.test(rel))) files.push(f);
  }
}

// Several builds may run at once (parallel test targets) while others read dist/:
// never delete it (only --clean does), and replace each file atomically.
if (clean) await rm(out, { recursive: true, force: true });
async function writeAtomic(target, content) {
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, target);
}
let failed = 0;
await Promise.all(
  files.map(async (file) => {
    const rel = relative(root, file);
    if (file.endsWith('.cjs')) {
      // Plain CommonJS (e.g. code that also runs in worker threads): copied as is.
      const target = join(out, rel);
      await mkdir(dirname(target), { recursive: true });
      await writeAtomic(target, await readFile(file));
      return;
    }
    const target = join(out, rel.replace(/\.ts$/, '.js'));
    try {
      const { code, map } = await transformFile(file, {
        ...swcrc,
        swcrc: false,
        filename: file,
        sourceFileName: relative(dirname(target), file),
        jsc: { ...swcrc.jsc, baseUrl: root, paths },
      });
      await mkdir(dirname(target), { recursive: true });
      if (map) await writeAtomic(target + '.map', map);
      await writeAtomic(target, code + `\n//# sourceMappingURL=${target.split(sep).pop()}.map\n`);
    } catch (err) {
      failed += 1;
      console.error(`build: ${rel}: ${err.message ?? err}`);
    }
  }),
);
if (failed > 0) {
  console.error(`build: ${failed} file(s) failed`);
  process.exit(1);
}
if (!quiet) console.log(`build: ${files.length} files -> dist/ in ${Math.round(performance.now() - started)} ms`);
await bundleServices();
await buildConsole();

/**
 * dist/apps/<service>/main.js: the service's dist/apps/<service>/src/main.js with
 * everything it imports, node_modules included, in one CommonJS file. Packages that
 * must stay files stay outside (below), as do optional packages that are not installed
 * (Nest asks for them inside try/catch). A bundle still runs from the repository (or
 * image) root: node_modules holds what it leaves outside. The bundles are made again
 * only when one of their inputs (listed by the last build) differs.
 */
async function bundleServices() {
  const { createHash } = await import('node:crypto');
  const { build } = await import('esbuild');
  const at = performance.now();
  // Left as packages in node_modules: native addons (better-sqlite3 is also loaded by path in the
  // writer thread); packages that find their own files next to their code (swagger-ui-dist serves
  // the /docs assets from its folder); the EventStoreDB client and gRPC (which loads .proto files by path),
  // which the SQLite mode never calls.
  const external = ['better-sqlite3', 'sqlite3', 'pg-native', 'swagger-ui-dist', '@eventstore/db-client', '@grpc/grpc-js', '@grpc/proto-loader'];
  // Inputs are mostly shared between the services: each file is read once.
  const contents = new Map();
  const contentOf = (f) => {
    if (!contents.has(f)) contents.set(f, readFile(join(root, f)).catch(() => ''));
    return contents.get(f);
  };
  const digestOf = async (inputs) => {
    const hash = createHash('sha256');
    const files = [...inputs, 'package-lock.json', 'tools/build/build.mjs'].sort();
    const bodies = await Promise.all(files.map(contentOf));
    files.forEach((f, i) => hash.update(f).update('\0').update(bodies[i]).update('\0'));
    return hash.digest('hex');
  };
  const stampFile = join(out, 'apps', '.bundle-inputs.json');
  const targets = BUNDLED_SERVICES.map((service) => join(out, 'apps', service, 'main.js'));
  const stamp = JSON.parse(await readFile(stampFile, 'utf8').catch(() => 'null'));
  const present = (await Promise.all(targets.map((t) => readFile(t).then(() => true, () => false)))).every(Boolean);
  if (stamp && present && stamp.services === BUNDLED_SERVICES.join() && stamp.digest === (await digestOf(stamp.inputs))) return;
  // All services in one build (they share most of their code, parsed once), each its own complete bundle.
  const tmp = join(out, 'apps', `.bundles.${process.pid}.tmp`);
  const bundle = (missing) =>
    build({
      entryPoints: Object.fromEntries(BUNDLED_SERVICES.map((service) => [service, join(out, 'apps', service, 'src', 'main.js')])),
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outdir: tmp,
      external: [...external, ...missing],
      // Nest names providers and routes after their classes: names are kept.
      keepNames: true,
      minifyWhitespace: true,
      minifySyntax: true,
      metafile: true,
      logLevel: 'silent',
      logLimit: 0,
      legalComments: 'none',
    });
  // An import that cannot be resolved is an optional package that is not installed (Nest and
  // TypeORM ask for such packages inside try/catch): it is left outside, and fails there as before.
  const missing = new Set();
  let result;
  try {
    for (;;) {
      try {
        result = await bundle([...missing]);
        break;
      } catch (err) {
        const unresolved = (err.errors ?? []).map((e) => /^Could not resolve "([^"]+)"/.exec(e.text)?.[1]);
        if (unresolved.length === 0 || unresolved.some((m) => !m || missing.has(m))) {
          for (const e of err.errors ?? []) console.error(`build: bundle: ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
          throw new Error('the services could not be bundled');
        }
        for (const m of unresolved) missing.add(m);
      }
    }
    const writer = await readFile(join(out, 'libs', 'event-store', 'src', 'sqlite', 'sqlite-writer.cjs'));
    for (const service of BUNDLED_SERVICES) {
      // The writer thread of the SQLite event store runs from a file next to the code that starts it.
      await writeAtomic(join(out, 'apps', service, 'sqlite-writer.cjs'), writer);
      await rename(join(tmp, `${service}.js`), join(out, 'apps', service, 'main.js'));
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const inputs = Object.keys(result.metafile.inputs);
  await writeAtomic(stampFile, JSON.stringify({ services: BUNDLED_SERVICES.join(), digest: await digestOf(inputs), inputs }));
  if (!quiet) console.log(`build: ${BUNDLED_SERVICES.join(', ')} bundled -> dist/apps/<service>/main.js in ${Math.round(performance.now() - at)} ms`);
}

/**
 * Bundles the console with Vite unless dist/apps/console holds a bundle of
 * exactly these sources (a hash of every file under apps/console and of the
 * lock file). Parallel builds take turns on a lock file; the bundle is made in
 * a temporary directory and moved into place whole.
 */
async function buildConsole() {
  const { createHash } = await import('node:crypto');
  const { open, stat } = await import('node:fs/promises');
  const { unlinkSync } = await import('node:fs');
  const app = join(root, 'apps', 'console');
  const target = join(out, 'apps', 'console');
  const stamp = join(target, '.sources');
  const hash = createHash('sha256');
  const inputs = [join(root, 'package-lock.json')];
  for await (const f of walkAll(app)) if (!/[/\\](e2e|test-output)[/\\]/.test(f)) inputs.push(f);
  for (const f of inputs.sort()) hash.update(relative(root, f)).update('\0').update(await readFile(f)).update('\0');
  const digest = hash.digest('hex');
  const fresh = async () => (await readFile(stamp, 'utf8').catch(() => '')) === digest;
  if (await fresh()) return;
  await mkdir(join(out, 'apps'), { recursive: true });
  const lock = join(out, 'apps', '.console.lock');
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return err.code === 'EPERM';
    }
  };
  // Leftovers of builds that were killed (their process is gone).
  for (const name of await readdir(join(out, 'apps'))) {
    const m = /^console\.(\d+)\.(tmp|old)$/.exec(name);
    if (m && !alive(Number(m[1]))) await rm(join(out, 'apps', name), { recursive: true, force: true });
  }
  // One bundler at a time: the lock holds its pid; a lock whose process is gone is taken over.
  let handle;
  let told = false;
  for (;;) {
    try {
      handle = await open(lock, 'wx');
      await handle.write(String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      // No pid in it for seconds: its maker died between creating and writing it.
      const unwritten = !holder && Date.now() - (await stat(lock).then((st) => st.mtimeMs, () => Date.now())) > 10_000;
      if ((holder && !alive(holder)) || unwritten) {
        // Renamed away first, so that two waiters cannot both take over.
        await rename(lock, `${lock}.${process.pid}.stale`).then(() => rm(`${lock}.${process.pid}.stale`, { force: true }), () => undefined);
        continue;
      }
      if (!told && !quiet) console.log(`build: waiting for the console bundle of build ${holder || '(starting)'}`);
      told = true;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const unlock = () => {
    try {
      unlinkSync(lock);
    } catch {
      /* gone already */
    }
  };
  // Ctrl-C during the bundle must not leave the lock behind.
  const interrupted = (signal) => {
    unlock();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    if (await fresh()) return;
    const at = performance.now();
    const tmp = join(out, 'apps', `console.${process.pid}.tmp`);
    const { build } = await import('vite');
    await build({ configFile: join(app, 'vite.config.mts'), logLevel: 'error', build: { outDir: tmp, emptyOutDir: true } });
    await writeFile(join(tmp, '.sources'), digest);
    const old = join(out, 'apps', `console.${process.pid}.old`);
    await rename(target, old).catch(() => undefined);
    await rename(tmp, target);
    await rm(old, { recursive: true, force: true });
    if (!quiet) console.log(`build: console -> dist/apps/console in ${Math.round(performance.now() - at)} ms`);
  } catch (err) {
    console.error(`build: the console failed to build: ${err.message ?? err}`);
    process.exitCode = 1;
  } finally {
    await handle.close();
    unlock();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

async function* walkAll(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') yield* walkAll(p);
    } else yield p;
  }
}
