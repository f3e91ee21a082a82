#!/usr/bin/env node
// Compiles every app, library and tool to dist/ with SWC (decorator metadata on,
// CommonJS, source maps), rewriting the @el/* path aliases to relative imports.
// Type checking is separate (`npm run typecheck`); this only transpiles, so it
// takes about a second and `npm start` can build on every start. `--clean` empties dist/ first.
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
// Specs, fixtures and test-support folders are not built; libs/testing is (benchmarks start PostgreSQL with it).
const SKIP = [/\.spec\.ts$/, /\.d\.ts$/, /[/\\]__fixtures__[/\\]/, /[/\\]src[/\\]testing[/\\]/];

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
