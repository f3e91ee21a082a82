import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { enforcementServiceConfigSpec } from '@el/enforcement-service';
import { eventStoreConfigSpec } from '@el/event-store';
import { ledgerServiceConfigSpec } from '@el/ledger-service';
import { messagingConfigSpec } from '@el/messaging';
import { meteringServiceConfigSpec } from '@el/metering-service';
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
  metering: meteringServiceConfigSpec,
};
const SERVICES = Object.keys(SPECS);

type ComposeService = { build?: { target?: string }; environment?: Record<string, unknown>; healthcheck?: { test?: string[] }; depends_on?: Record<string, unknown>; secrets?: string[] };

/** A variable whose value would be a credential, and a URL that carries one: neither may be a plain value in a deployment file. */
const CREDENTIAL_VARIABLE = /(PASSWORD|SECRET|TOKEN)$/;
const CREDENTIAL_URL = /\/\/[^/@\s:]+:[^/@\s]+@/;
const credentialsInValues = (env: Record<string, unknown>) => Object.entries(env).filter(([k, v]) => CREDENTIAL_VARIABLE.test(k) || CREDENTIAL_URL.test(String(v))).map(([k]) => k);

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; secrets?: Record<string, { file?: string }> };
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

  it('docker-compose.yml: passwords reach every container as secret files, never as environment values', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const env = service.environment ?? {};
      expect({ name, inValues: credentialsInValues(env) }).toEqual({ name, inValues: [] });
      for (const [variable, value] of Object.entries(env).filter(([k]) => /PASSWORD_FILE$/.test(k))) {
        const secret = /^\/run\/secrets\/([\w-]+)$/.exec(String(value))?.[1];
        const file = secret ? compose.secrets?.[secret]?.file : undefined;
        // The secret is granted to this service, defined with a file, and the file is there.
        expect({ name, variable, granted: Boolean(secret && service.secrets?.includes(secret)), file: Boolean(file && existsSync(join(ROOT, file))) }).toEqual({ name, variable, granted: true, file: true });
      }
    }
    // The compose Kafka authenticates every client: each service using it says how.
    for (const name of SERVICES.filter((n) => compose.services[n]!.environment?.['BUS'] === 'kafka')) {
      expect({ name, mechanism: compose.services[name]!.environment?.['KAFKA_SASL_MECHANISM'] }).toEqual({ name, mechanism: 'scram-sha-512' });
    }
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

  it('Kubernetes: credentials are files from Secrets, and every file a service is pointed at is mounted', () => {
    const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'ledger-config')!.data!;
    expect(credentialsInValues(configMap)).toEqual([]);
    for (const name of SERVICES) {
      const pod = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name)!.spec.template.spec;
      const container = pod.containers[0];
      const env = { ...configMap, ...Object.fromEntries((container.env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])) };
      expect({ name, inValues: credentialsInValues(env) }).toEqual({ name, inValues: [] });
      // Each *_FILE this service reads names a file of a mounted volume (a Secret's for a password).
      const files = Object.entries(env).filter(([k]) => k.endsWith('_FILE') && k in SPECS[name]!);
      for (const [variable, path] of files) {
        const mount = (container.volumeMounts as { name: string; mountPath: string }[] | undefined)?.find((m) => path.startsWith(`${m.mountPath}/`));
        const volume = (pod.volumes as { name: string; secret?: { items?: { path: string }[] }; configMap?: { items?: { path: string }[] } }[] | undefined)?.find((v) => v.name === mount?.name);
        const source = volume?.secret ?? volume?.configMap;
        const fileName = mount ? path.slice(mount.mountPath.length + 1) : '';
        expect({ name, variable, mounted: Boolean(source?.items?.some((i) => i.path === fileName)), fromSecret: /PASSWORD/.test(variable) ? Boolean(volume?.secret) : true }).toEqual({ name, variable, mounted: true, fromSecret: true });
      }
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
