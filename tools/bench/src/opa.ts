/**
 * Open Policy Agent for bench:check, the peer the check path is compared with.
 * Built by the benchmark only (never by tests or CI): `go install` of a pinned
 * version from the Go module proxy into `.tools-cache/opa-<version>/`, once;
 * later runs use the binary there. Without Go, the OPA rows are skipped with
 * one line saying why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, which } from '@el/testing';

export const OPA_VERSION = '1.22.3';
const ROOT = repoRoot();
export const POLICY = join(ROOT, 'tools', 'bench', 'policy', 'entitlements.rego');
/** The rule every peer evaluates: data.ledger.check.decision. */
export const ENTRYPOINT = 'ledger/check/decision';

function goBinary(): string | null {
  const onPath = which('go');
  if (onPath) return onPath;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null;
}

/** The opa binary, built when missing; null (with the reason) when it cannot be. */
export function ensureOpa(log: (line: string) => void): { opa: string } | { skipped: string } {
  const dir = join(ROOT, '.tools-cache', `opa-${OPA_VERSION}`);
  const opa = join(dir, 'opa');
  if (existsSync(opa)) return { opa };
  const go = goBinary();
  if (!go) return { skipped: `OPA rows skipped: Go is not installed (needed once to build OPA ${OPA_VERSION} from the Go module proxy into ${dir})` };
  log(`building OPA ${OPA_VERSION} with ${go} (go install github.com/open-policy-agent/opa@v${OPA_VERSION}) into ${dir}; once, a few minutes`);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(go, ['install', `github.com/open-policy-agent/opa@v${OPA_VERSION}`], { env: { ...process.env, GOBIN: dir }, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0 || !existsSync(opa)) return { skipped: `OPA rows skipped: go install failed:\n${(r.stderr ?? '').slice(-2000)}` };
  return { opa };
}

/** The policy compiled to WebAssembly by `opa build -t wasm` (cached next to the binary, per policy content). */
export function buildWasm(opa: string, outDir: string): Buffer {
  mkdirSync(outDir, { recursive: true });
  const bundle = join(outDir, 'bundle.tar.gz');
  const built = spawnSync(opa, ['build', '-t', 'wasm', '-e', ENTRYPOINT, '-o', bundle, POLICY], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`opa build -t wasm failed:\n${built.stdout}${built.stderr}`);
  const untar = spawnSync('tar', ['-xzf', bundle, '-C', outDir, '/policy.wasm'], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`extracting policy.wasm from ${bundle} failed: ${untar.stderr}`);
  return readFileSync(join(outDir, 'policy.wasm'));
}
