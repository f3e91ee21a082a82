import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { enforcementServiceConfigSpec } from '@el/enforcement-service';
import { eventStoreConfigSpec } from '@el/event-store';
import { ledgerServiceConfigSpec } from '@el/ledger-service';
import { messagingConfigSpec } from '@el/messaging';
import { baseServiceConfigSpec, readConfig } from '@el/platform';
import { projectorConfigSpec, readModelsConfigSpec } from '@el/read-models';

/**
 * The deployment files are configuration too: a variable misspelt in
 * docker-compose.yml or a ConfigMap would be silently ignored by the service
 * (its default applies). These checks read the files as a user's tools would.
 */
const ROOT = join(__dirname, '..', '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** What each service reads (the projector's spec is assembled in its app; these are its parts). */
const SPECS: Record<string, Parameters<typeof readConfig>[0]> = {
  ledger: ledgerServiceConfigSpec,
  projector: { ...baseServiceConfigSpec, ...eventStoreConfigSpec, ...readModelsConfigSpec, ...projectorConfigSpec, ...messagingConfigSpec },
  enforcement: enforcementServiceConfigSpec,
};
const SERVICES = Object.keys(SPECS);

type ComposeService = { build?: { target?: string }; environment?: Record<string, unknown>; healthcheck?: { test?: string[] }; depends_on?: Record<string, unknown> };

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const dockerTargets = [...read('Dockerfile').matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);

  it('every app is a service of docker-compose.yml, built from its Dockerfile target, with a health check', () => {
    for (const name of SERVICES) {
      const s = compose.services[name];
      expect({ name, target: s?.build?.target }).toEqual({ name, target: name });
      expect(dockerTargets).toContain(name);
      expect(s!.healthcheck?.test?.join(' ')).toContain('/health');
    }
    for (const infra of ['eventstoredb', 'kafka', 'postgres']) expect(compose.services[infra]?.healthcheck).toBeDefined();
  });

  it('docker-compose.yml sets only variables the service reads, with values that pass its validation', () => {
    for (const name of SERVICES) {
      const env = Object.fromEntries(Object.entries(compose.services[name]!.environment ?? {}).map(([k, v]) => [k, String(v)]));
      const unknown = Object.keys(env).filter((k) => !(k in SPECS[name]!));
      expect({ name, unknown }).toEqual({ name, unknown: [] });
      expect(() => readConfig(SPECS[name]!, env)).not.toThrow();
    }
    expect(compose.services['ledger']!.environment).toMatchObject({ EVENT_STORE: 'esdb', READ_DB: 'postgres', BUS: 'kafka' });
  });

  const manifests = readdirSync(join(ROOT, 'deploy', 'k8s'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(read(join('deploy', 'k8s', f))).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> }))
    .filter(Boolean);

  it('Kubernetes: a Deployment and a Service per app, readiness on /health and liveness on /health/live', () => {
    for (const name of SERVICES) {
      const deployment = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name);
      const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === name);
      expect({ name, deployment: Boolean(deployment), service: Boolean(service) }).toEqual({ name, deployment: true, service: true });
      const container = deployment!.spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet.path).toBe('/health');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      expect(service!.spec.selector).toEqual(deployment!.spec.selector.matchLabels);
      const port = Number(container.env.find((e: { name: string }) => e.name === 'PORT').value);
      expect(container.ports[0].containerPort).toBe(port);
      const unknown = (container.env as { name: string }[]).map((e) => e.name).filter((k) => !(k in SPECS[name]!));
      expect({ name, unknown }).toEqual({ name, unknown: [] });
      const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'ledger-config')!.data!;
      const values = { ...configMap, ...Object.fromEntries((container.env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])) };
      expect(() => readConfig(SPECS[name]!, values)).not.toThrow();
    }
  });

  it('Kubernetes: the shared ConfigMap holds only variables some service reads', () => {
    const config = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'ledger-config')!;
    const known = new Set(Object.values(SPECS).flatMap((s) => Object.keys(s)));
    expect(Object.keys(config.data!).filter((k) => !known.has(k))).toEqual([]);
  });

  it('the README configuration table documents every variable of every service', () => {
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const documented = new Set([...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    const missing = [...new Set(Object.values(SPECS).flatMap((s) => Object.keys(s)))].filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  it('builds every image on Node.js 24 LTS (Node 20 reached its end of life on 2026-04-30)', () => {
    const bases = [...read('Dockerfile').matchAll(/^FROM (node:[^\s]+)/gm)].map((m) => m[1]!);
    expect(bases.length).toBeGreaterThan(0);
    expect(bases.filter((b) => !/^node:24[-.]/.test(b))).toEqual([]);
  });
});
