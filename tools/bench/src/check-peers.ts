/**
 * The peers of our check in bench:check, fed the same entitlements: casbin (an
 * ABAC model, tools/bench/policy/entitlements-casbin.conf) and OPA (the Rego
 * policy tools/bench/policy/entitlements.rego, as WebAssembly in process and
 * as `opa run --server` over HTTP).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer } from 'casbin';
import type { CheckSubject, Decision, Members } from '@el/domain';
import { repoRoot } from '@el/testing';

/** One request as every peer takes it; absent fields are not given. */
export interface PeerRequest {
  readonly customerId: string;
  readonly feature: string;
  readonly userId?: string;
  readonly region?: string;
  readonly quantity?: number;
}

/** What OPA answers (data.ledger.check.decision): our decision without the hint, reason and expiry. */
export interface PeerDecision {
  readonly allowed: boolean;
  readonly code: string;
  readonly entitlementId: string | null;
  readonly remaining: number | null;
}

/** The users (devices) of a subject checkSubject built: a Set, listed. */
function listOf(m: Members): string[] {
  if (!(m instanceof Set)) throw new TypeError('the peers are fed subjects made by checkSubject, whose users and devices are Sets');
  return [...(m as Set<string>)];
}

/** A subject as JSON data: what the Rego policy reads under data.entitlements[customerId]. */
export function subjectData(s: CheckSubject): Record<string, unknown> {
  return {
    entitlementId: s.entitlementId,
    productId: s.productId,
    planId: s.planId,
    status: s.status,
    validFromMs: s.validFromMs,
    validUntilMs: s.validUntilMs,
    graceEndsMs: s.graceEndsMs,
    regions: s.regions ? [...s.regions] : null,
    features: s.features,
    seatHolders: listOf(s.seatHolders),
    devices: listOf(s.devices),
  };
}

/** OPA's data document for these subjects. */
export function policyData(subjects: readonly CheckSubject[]): { entitlements: Record<string, unknown[]>; usage: Record<string, never> } {
  const entitlements: Record<string, unknown[]> = {};
  for (const s of subjects) (entitlements[s.customerId] ??= []).push(subjectData(s));
  return { entitlements, usage: {} };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A casbin enforcer holding one policy line per (entitlement, feature). */
export async function casbinEnforcer(subjects: readonly CheckSubject[]): Promise<Enforcer> {
  const model = newModelFromString(readFileSync(join(repoRoot(), 'tools', 'bench', 'policy', 'entitlements-casbin.conf'), 'utf8'));
  const lines: string[] = [];
  for (const s of subjects) {
    for (const [feature, grant] of Object.entries(s.features)) {
      const cap = grant.meter ? grant.meter.cap : grant.limit;
      lines.push(
        [
          'p',
          s.customerId,
          s.entitlementId,
          feature,
          s.status,
          s.validFromMs,
          s.validUntilMs ?? '',
          s.graceEndsMs ?? '',
          s.regions ? `^(${[...s.regions].map(escape).join('|')})$` : '.*',
          `^(${listOf(s.seatHolders).map(escape).join('|')})$`,
          cap ?? '',
          grant.meter?.capType ?? '',
        ].join(', '),
      );
    }
  }
  return newEnforcer(model, new StringAdapter(lines.join('\n')));
}

/** casbin's answer: allowed or not. */
export function casbinAllows(enforcer: Enforcer, r: PeerRequest, atMs: number): boolean {
  return enforcer.enforceSync(r.customerId, r.feature, r.userId ?? '', r.region ?? '', r.quantity ?? 1, atMs);
}

/** Differences between our decision and a peer's on the fields both compute; empty when they agree. */
export function disagreement(ours: Decision, peer: PeerDecision | boolean): string[] {
  if (typeof peer === 'boolean') return ours.allowed === peer ? [] : [`allowed: ours ${ours.allowed}, peer ${peer}`];
  const out: string[] = [];
  for (const k of ['allowed', 'code', 'entitlementId', 'remaining'] as const) if (ours[k] !== peer[k]) out.push(`${k}: ours ${JSON.stringify(ours[k])}, peer ${JSON.stringify(peer[k])}`);
  return out;
}

/** An installed package's version (what the tables name). */
export function versionOf(pkg: string): string {
  return (JSON.parse(readFileSync(join(repoRoot(), 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}
export const CASBIN_VERSION = versionOf('casbin');
export const OPA_WASM_VERSION = versionOf('@open-policy-agent/opa-wasm');
