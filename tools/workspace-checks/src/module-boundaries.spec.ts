import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The architecture is enforced by lint: these lint a probe file placed (in
 * memory) inside each project and assert what the rules say about it.
 */
const ROOT = join(__dirname, '..', '..', '..');
const ESLINT = join(ROOT, 'node_modules', '.bin', 'eslint');

/** Lints `code` as if it were `file`, with the workspace's real configuration and binary. */
async function problems(file: string, code: string): Promise<string[]> {
  const run = spawnSync(ESLINT, ['--stdin', '--stdin-filename', file, '--format', 'json'], {
    cwd: ROOT,
    input: code,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  });
  if (run.status === 2 || !run.stdout) throw new Error(`eslint failed to run: ${run.stderr}`);
  const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string; message: string }[] }[];
  // eslint exits 1 exactly when it reports errors: that is what fails `npm run lint`.
  expect(run.status).toBe(result!.messages.length > 0 ? 1 : 0);
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries', () => {
  it.each(['@nestjs/common', 'typeorm', 'kafkajs', 'pg', 'better-sqlite3', '@eventstore/db-client'])('forbids libs/domain to import %s', async (pkg) => {
    const found = await problems('libs/domain/src/probe.ts', `import * as x from '${pkg}';\nexport const y = x;\n`);
    // Banned by name whether or not the package is installed yet; installed ones are also caught by the boundary rule.
    expect(found).toContain(`no-restricted-imports: '${pkg}' import is restricted from being used${pkg.startsWith('@') ? ' by a pattern' : ''}. libs/domain is pure: infrastructure belongs in adapters and apps.`);
  });

  it('forbids the domain to reach for I/O, the clock or randomness', async () => {
    const found = await problems('libs/domain/src/probe.ts', `import { readFileSync } from 'node:fs';\nexport const a = [readFileSync, Date.now(), new Date(), Math.random()];\n`);
    expect(found.map((f) => f.split(':')[0])).toEqual(['no-restricted-imports', 'no-restricted-syntax', 'no-restricted-syntax', 'no-restricted-syntax']);
  });

  it('forbids the domain to depend on adapters, and shared libraries on a service', async () => {
    // Adapters depend on the domain, so the rule reports the cycle the import would create, or the tag it breaks.
    const down = await problems('libs/domain/src/probe.ts', `import { SqliteEventStore } from '@el/event-store';\nexport const s = SqliteEventStore;\n`);
    expect(down).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: (A project tagged with "type:domain" can only depend on libs tagged with "type:domain"|Circular dependency between "domain" and "event-store")/)]);
    // platform → ledger-service is refused (reported as the cycle it would create).
    const up = await problems('libs/platform/src/probe.ts', `import { LedgerModule } from '@el/ledger-service';\nexport const m = LedgerModule;\n`);
    expect(up.some((p) => p.startsWith('@nx/enforce-module-boundaries:'))).toBe(true);
  });

  it('allows what the architecture allows', async () => {
    expect(await problems('libs/domain/src/probe.ts', `import { parse } from 'yaml';\nexport const p = parse;\n`)).toEqual([]);
    expect(await problems('libs/ledger-service/src/probe.ts', `import { decideEntitlement } from '@el/domain';\nimport { SqliteEventStore } from '@el/event-store';\nexport const a = [decideEntitlement, SqliteEventStore];\n`)).toEqual([]);
  });
});
