import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_ENV } from '@plexus/backend';
import { BALANCER_ENV } from '@plexus/balancer';
import { SERVER_ENV } from '@plexus/server';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** Whether `kubectl` runs here; CI (CI=true) has it, so there a missing one fails instead of skipping. */
export function kubectlSkip(): string | false {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return false;
  } catch {
    if (process.env.CI) throw new Error('kubectl is required in CI (it renders deploy/k8s)');
    return 'kubectl is not installed';
  }
}

/** `kubectl kustomize <overlay>`, offline, parsed into objects. */
export function render(overlay: string): Obj[] {
  const text = execFileSync('kubectl', ['kustomize', `deploy/k8s/overlays/${overlay}`], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return parseYaml(text);
}

/** An overlay with kustomize components added (`deploy/k8s/components/<name>`), rendered from a temp dir. */
export function renderWith(overlay: string, components: string[]): Obj[] {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-kustomize-'));
  // kustomize refuses absolute paths to other kustomizations: refer to them relatively.
  const repo = relative(dir, ROOT);
  try {
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${repo}/deploy/k8s/overlays/${overlay}]`,
        `components: [${components.map((c) => `${repo}/deploy/k8s/components/${c}`).join(', ')}]`,
      ].join('\n'),
    );
    return parseYaml(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseYaml(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw d.errors[0];
      return d.toJS() as Obj | null;
    })
    .filter((d): d is Obj => d !== null);
}

export function readRepoFile(path: string): string {
  return readFileSync(new URL(path, new URL('../', import.meta.url)), 'utf8');
}

/** Every PLEXUS_* variable some component reads (docs/config.md), plus the dev cluster's own. */
export const KNOWN_ENV = new Set<string>([
  ...Object.values(BACKEND_ENV),
  ...Object.values(BALANCER_ENV),
  ...Object.values(SERVER_ENV),
  // Read by the CLI and the image (PLEXUS_CONFIG_FILE) or by kit (PLEXUS_WEB_ROOT via the balancer).
  'PLEXUS_CONFIG_FILE',
]);

/** Variable names that carry a key, a password or a URL that may embed one. */
export const SECRET_ENV = /KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL/;
