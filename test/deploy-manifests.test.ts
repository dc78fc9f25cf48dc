import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import * as apps from 'kubernetes-models/apps/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { FLEET_AUTOSCALE_PATH } from '../packages/balancer/src/routes/fleet-autoscale-routes.ts';
import {
  KNOWN_ENV,
  kubectlSkip,
  type Obj,
  parseYaml,
  ROOT,
  readRepoFile,
  render,
  renderWith,
  SECRET_ENV,
} from './deploy-support.ts';

// deploy/k8s rendered with `kubectl kustomize` for every overlay, and validated: core kinds against
// the Kubernetes schemas (kubernetes-models), Agones kinds against the openAPIV3Schema of the CRDs
// (deploy/k8s/schemas, Agones 1.56), plus what operators rely on (docs/deploy.md).

const skip = kubectlSkip();
const OVERLAYS = readdirSync(`${ROOT}deploy/k8s/overlays`);
/** Every overlay, and production with the optional seat-demand webhook component. */
const VARIANTS: { name: string; render: () => Obj[]; webhook: boolean }[] = [
  ...OVERLAYS.map((o) => ({ name: o, render: () => render(o), webhook: false })),
  {
    name: 'production + seat-webhook',
    render: () => renderWith('production', ['seat-webhook']),
    webhook: true,
  },
];

// biome-ignore lint/suspicious/noExplicitAny: the models' constructors take their own JSON types.
type Model = new (data: any) => { validate(): void };
const CORE: Record<string, Model> = {
  'v1/ConfigMap': core.ConfigMap,
  'v1/Service': core.Service,
  'v1/ServiceAccount': core.ServiceAccount,
  'v1/PersistentVolumeClaim': core.PersistentVolumeClaim,
  'apps/v1/Deployment': apps.Deployment,
  'rbac.authorization.k8s.io/v1/Role': rbac.Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': rbac.RoleBinding,
  'networking.k8s.io/v1/NetworkPolicy': networking.NetworkPolicy,
  'networking.k8s.io/v1/Ingress': networking.Ingress,
  'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
};

/**
 * The API server rejects unknown fields of a structural schema (kubectl's strict field validation):
 * make every object with declared properties closed, unless it preserves unknown fields.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const s = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)])) as Record<
    string,
    unknown
  >;
  // OpenAPI 3.0's boolean exclusiveMinimum/Maximum, in JSON Schema's numeric form.
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof s[flag] !== 'boolean') continue;
    if (s[flag]) s[flag] = s[bound];
    else delete s[flag];
    if (s[flag] !== undefined) delete s[bound];
  }
  if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) {
    s.additionalProperties = false;
  }
  return s;
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
/** The served versions' schemas of the Agones CRDs, compiled on first use (they are large). */
const crdSchemas = new Map<string, unknown>(
  parseYaml(readRepoFile('deploy/k8s/schemas/agones-crds.yaml')).flatMap((crd) => {
    const spec = crd.spec as {
      group: string;
      names: { kind: string };
      versions: { name: string; served: boolean; schema: { openAPIV3Schema: unknown } }[];
    };
    return spec.versions
      .filter((v) => v.served)
      .map((v) => [`${spec.group}/${v.name}/${spec.names.kind}`, v.schema.openAPIV3Schema] as const);
  }),
);
const crdValidators = new Map<string, ValidateFunction>();
function crdValidator(key: string): ValidateFunction | undefined {
  const schema = crdSchemas.get(key);
  if (!schema) return undefined;
  let v = crdValidators.get(key);
  if (!v) {
    v = ajv.compile(closed(schema) as Record<string, unknown>);
    crdValidators.set(key, v);
  }
  return v;
}

function validate(o: Obj): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const model = CORE[key];
  if (model) {
    new model(o).validate();
    return;
  }
  const crd = crdValidator(key);
  assert.ok(crd, `${key} ${o.metadata.name}: neither a core kind checked here nor an Agones CRD`);
  // apiVersion, kind and metadata are the API server's own (the CRD schema declares the rest).
  const { apiVersion: _v, kind: _k, metadata, ...rest } = o;
  assert.ok(crd(rest), `${key} ${metadata.name}: ${ajv.errorsText(crd.errors)}`);
}

type Container = {
  name: string;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};
type PodSpec = {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  serviceAccountName?: string;
  volumes?: Record<string, unknown>[];
};

const of = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const named = (objs: Obj[], kind: string, name: string) => {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found as Obj & { spec: Record<string, unknown> };
};
const podOf = (o: Obj): PodSpec =>
  o.kind === 'Fleet'
    ? (o.spec as { template: { spec: { template: { spec: PodSpec } } } }).template.spec.template.spec
    : (o.spec as { template: { spec: PodSpec } }).template.spec;
const workloads = (objs: Obj[]) => [...of(objs, 'Deployment'), ...of(objs, 'Fleet')];
const configMap = (objs: Obj[]) =>
  named(objs, 'ConfigMap', 'plexus-config') as unknown as { data: Record<string, string> };
const envOf = (objs: Obj[], c: Container, name: string): string | undefined =>
  c.env?.find((e) => e.name === name)?.value ??
  (c.envFrom?.some((f) => f.configMapRef?.name === 'plexus-config') ? configMap(objs).data[name] : undefined);

/** The Secrets docs/deploy.md tells operators to create: name → keys. */
function documentedSecrets(): Map<string, Set<string>> {
  const doc = readRepoFile('docs/deploy.md');
  const secrets = new Map<string, Set<string>>();
  // Each command runs to its last continued line (`\` at the end).
  for (const m of doc.matchAll(/kubectl -n plexus create secret generic ([a-z0-9-]+)((?:.*\\\n)*.*)/g)) {
    const keys = [...(m[2] ?? '').matchAll(/--from-literal=([a-z0-9-]+)=/g)].map((k) => k[1] as string);
    secrets.set(m[1] as string, new Set(keys));
  }
  return secrets;
}

describe('Kubernetes manifests (kubectl kustomize, every overlay)', { skip }, () => {
  test('the overlays are dev and production', () => {
    assert.deepEqual(OVERLAYS.sort(), ['dev', 'production']);
  });

  for (const variant of VARIANTS) {
    describe(variant.name, () => {
      const objs = skip ? [] : variant.render();

      test('every object validates: core kinds against Kubernetes schemas, Agones kinds against the CRDs', () => {
        assert.ok(objs.length > 10);
        for (const o of objs) validate(o);
        assert.ok(of(objs, 'Fleet').length === 1 && of(objs, 'FleetAutoscaler').length === 1);
      });

      test('no key in any manifest: keys come from Secrets the docs create, never a Secret object or a literal', () => {
        assert.deepEqual(of(objs, 'Secret'), []);
        const secrets = documentedSecrets();
        for (const w of workloads(objs)) {
          for (const c of podOf(w).containers) {
            for (const e of c.env ?? []) {
              if (!SECRET_ENV.test(e.name)) continue;
              const ref = e.valueFrom?.secretKeyRef;
              assert.ok(ref, `${w.metadata.name}/${c.name}: ${e.name} must come from a Secret`);
              assert.ok(
                secrets.get(ref.name)?.has(ref.key),
                `docs/deploy.md must create secret ${ref.name} key ${ref.key}`,
              );
            }
          }
        }
        for (const name of Object.keys(configMap(objs).data)) assert.doesNotMatch(name, SECRET_ENV);
        const text = JSON.stringify(objs);
        assert.doesNotMatch(text, /plexus-dev-(partner|operator)-key|plexus-dev-cluster-secret/);
        assert.doesNotMatch(text, /:\/\/[^/"\s:@]+:[^/"\s@]+@/, 'a URL with a password');
      });

      test('every PLEXUS_* variable set is one a component reads', () => {
        const names = [
          ...Object.keys(configMap(objs).data),
          ...workloads(objs).flatMap((w) =>
            podOf(w).containers.flatMap((c) => (c.env ?? []).map((e) => e.name)),
          ),
        ].filter((n) => n.startsWith('PLEXUS_'));
        for (const n of names) assert.ok(KNOWN_ENV.has(n), `${n} is read by no component (docs/config.md)`);
      });

      test('every Deployment has readiness and liveness probes, and every container requests and limits', () => {
        for (const d of of(objs, 'Deployment')) {
          for (const c of podOf(d).containers) {
            assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${d.metadata.name}/${c.name}`);
            assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${d.metadata.name}/${c.name}`);
          }
        }
        for (const w of workloads(objs)) {
          for (const c of podOf(w).containers) {
            assert.ok(
              c.resources?.requests?.cpu && c.resources.requests.memory,
              `${w.metadata.name} requests`,
            );
            assert.ok(c.resources?.limits?.cpu && c.resources.limits.memory, `${w.metadata.name} limits`);
          }
        }
      });

      test('one image for every component', () => {
        const images = new Set(workloads(objs).flatMap((w) => podOf(w).containers.map((c) => c.image)));
        assert.equal(images.size, 1, [...images].join(', '));
      });

      test("the Fleet: Dynamic ws port, PLEXUS_AGONES, health that matches the server's, a grace period that covers the drain", () => {
        const fleet = named(objs, 'Fleet', 'plexus-ds');
        const gs = (fleet.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
          ports: { name: string; portPolicy: string; containerPort: number }[];
          health: { disabled: boolean; periodSeconds: number; failureThreshold: number };
          sdkServer?: unknown;
        };
        const [c] = podOf(fleet).containers;
        assert.ok(c);
        assert.deepEqual(
          gs.ports.map((p) => [p.name, p.portPolicy, String(p.containerPort)]),
          [['ws', 'Dynamic', envOf(objs, c, 'PLEXUS_DS_PORT')]],
        );
        assert.equal(envOf(objs, c, 'PLEXUS_AGONES'), 'true');
        assert.ok(gs.sdkServer);
        assert.equal(gs.health.disabled, false);
        const healthMs = Number(envOf(objs, c, 'PLEXUS_DS_AGONES_HEALTH_INTERVAL_MS'));
        const stallMs = Number(envOf(objs, c, 'PLEXUS_DS_AGONES_TICK_STALL_MS'));
        assert.ok(healthMs < gs.health.periodSeconds * 1000, 'pings within each health period');
        assert.ok(
          stallMs < gs.health.periodSeconds * gs.health.failureThreshold * 1000,
          'a stall is seen as Unhealthy',
        );
        // The CLI gives a stopping server its drain timeout plus 15 s (docs/config.md, drainTimeoutMs).
        const drainMs = Number(envOf(objs, c, 'PLEXUS_DS_DRAIN_TIMEOUT_MS'));
        assert.ok(drainMs > 0);
        const graceS = podOf(fleet).terminationGracePeriodSeconds ?? 30;
        assert.ok(
          graceS * 1000 >= drainMs + 15_000,
          `terminationGracePeriodSeconds ${graceS} < drain ${drainMs} ms + 15 s`,
        );
      });

      test('the FleetAutoscaler of that Fleet: a buffer of Ready servers, or the balancer webhook', () => {
        const fas = named(objs, 'FleetAutoscaler', 'plexus-ds-autoscaler');
        const spec = fas.spec as {
          fleetName: string;
          policy: {
            type: string;
            buffer?: { bufferSize: number; minReplicas: number };
            webhook?: { service: { name: string; namespace: string; port: number; path: string } };
          };
        };
        assert.equal(spec.fleetName, 'plexus-ds');
        if (!variant.webhook) {
          assert.equal(spec.policy.type, 'Buffer');
          const b = spec.policy.buffer;
          assert.ok(b && b.bufferSize >= 1 && b.minReplicas >= b.bufferSize);
          return;
        }
        assert.equal(spec.policy.type, 'Webhook');
        const svc = named(objs, 'Service', 'plexus-balancer');
        assert.deepEqual(spec.policy.webhook?.service, {
          name: svc.metadata.name,
          namespace: svc.metadata.namespace,
          port: (svc.spec as { ports: { port: number }[] }).ports[0]?.port,
          path: FLEET_AUTOSCALE_PATH,
        });
      });

      test('RBAC: the balancer may create GameServerAllocations and nothing more', () => {
        const role = named(objs, 'Role', 'plexus-balancer-allocator') as unknown as { rules: unknown[] };
        assert.deepEqual(role.rules, [
          { apiGroups: ['allocation.agones.dev'], resources: ['gameserverallocations'], verbs: ['create'] },
        ]);
        assert.deepEqual(of(objs, 'ClusterRole'), []);
        const binding = named(objs, 'RoleBinding', 'plexus-balancer-allocator') as unknown as {
          subjects: { kind: string; name: string; namespace?: string }[];
        };
        assert.deepEqual(binding.subjects, [
          { kind: 'ServiceAccount', name: 'plexus-balancer', namespace: 'plexus' },
        ]);
        assert.equal(
          podOf(named(objs, 'Deployment', 'plexus-balancer')).serviceAccountName,
          'plexus-balancer',
        );
        for (const d of of(objs, 'Deployment').filter((d) => d.metadata.name !== 'plexus-balancer')) {
          assert.equal(
            podOf(d).serviceAccountName,
            undefined,
            `${d.metadata.name} runs without the allocator role`,
          );
        }
      });

      test('NetworkPolicy: default deny; the backend from balancers only; the balancer port from servers, balancers and the ingress', () => {
        const deny = named(objs, 'NetworkPolicy', 'plexus-default-deny-ingress');
        assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ['Ingress'] });
        const fromOf = (name: string) =>
          (
            named(objs, 'NetworkPolicy', name).spec as {
              ingress: { from?: Record<string, { matchLabels: Record<string, string> }>[] }[];
            }
          ).ingress
            .flatMap((r) => r.from ?? [])
            .map(
              (f) =>
                f.podSelector?.matchLabels['app.kubernetes.io/component'] ??
                `ns:${f.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']}`,
            );
        assert.deepEqual(fromOf('plexus-backend'), ['balancer']);
        assert.deepEqual(fromOf('plexus-balancer'), [
          'dedicated-server',
          'balancer',
          'ns:ingress-nginx',
          // The Agones controller calls the webhook.
          ...(variant.webhook ? ['ns:agones-system'] : []),
        ]);
        for (const s of of(objs, 'Service')) {
          assert.equal(
            (s.spec as { type?: string }).type ?? 'ClusterIP',
            'ClusterIP',
            `${s.metadata.name} is not public`,
          );
        }
        for (const ing of of(objs, 'Ingress')) {
          const paths = JSON.stringify(ing.spec);
          assert.doesNotMatch(
            paths,
            /control|admin|partnerRpc|operatorRpc|\/lb\/api\/v0\/servers|metrics|"path":"\/"/,
          );
        }
      });

      test('selectors: every Service, PodDisruptionBudget and NetworkPolicy selects pods a workload runs', () => {
        const podLabels = workloads(objs).map((w) =>
          w.kind === 'Fleet'
            ? (
                w.spec as {
                  template: { spec: { template: { metadata: { labels: Record<string, string> } } } };
                }
              ).template.spec.template.metadata.labels
            : (w.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
                .labels,
        );
        const selects = (sel: Record<string, string>) =>
          podLabels.some((l) => Object.entries(sel).every(([k, v]) => l[k] === v));
        for (const s of of(objs, 'Service'))
          assert.ok(selects((s.spec as { selector: Record<string, string> }).selector), s.metadata.name);
        for (const p of [...of(objs, 'PodDisruptionBudget'), ...of(objs, 'NetworkPolicy')]) {
          const sel = (
            (
              p.spec as {
                selector?: { matchLabels: Record<string, string> };
                podSelector?: { matchLabels?: Record<string, string> };
              }
            ).selector ?? (p.spec as { podSelector: { matchLabels?: Record<string, string> } }).podSelector
          ).matchLabels;
          if (sel) assert.ok(selects(sel), p.metadata.name);
        }
      });
    });
  }

  test('dev: one backend on SQLite (a volume claim), one balancer, no PostgreSQL or Redis', { skip }, () => {
    const objs = render('dev');
    const backend = named(objs, 'Deployment', 'plexus-backend');
    assert.equal((backend.spec as { replicas: number }).replicas, 1);
    assert.equal((backend.spec as { strategy: { type: string } }).strategy.type, 'Recreate');
    const claim = podOf(backend).volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim as {
      claimName: string;
    };
    named(objs, 'PersistentVolumeClaim', claim.claimName);
    assert.equal((named(objs, 'Deployment', 'plexus-balancer').spec as { replicas: number }).replicas, 1);
    assert.doesNotMatch(JSON.stringify(objs), /PLEXUS_DATABASE_URL|PLEXUS_REDIS_URL/);
  });

  test('production: several backends on PostgreSQL and ≥ 2 balancers on Redis, URLs from Secrets', {
    skip,
  }, () => {
    const objs = render('production');
    const check = (name: string, variable: string, min: number) => {
      const d = named(objs, 'Deployment', name);
      assert.ok((d.spec as { replicas: number }).replicas >= min, `${name} replicas`);
      const e = podOf(d).containers[0]?.env?.find((x) => x.name === variable);
      assert.deepEqual(e?.valueFrom?.secretKeyRef?.name, 'plexus-datastores');
    };
    check('plexus-backend', 'PLEXUS_DATABASE_URL', 2);
    check('plexus-balancer', 'PLEXUS_REDIS_URL', 2);
  });
});
