import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PACKAGES = fileURLToPath(new URL('../packages/', import.meta.url));

// Dependencies point one way (CONVENTIONS.md): which workspace packages each one may import.
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  kit: ['protocol'],
  backend: ['protocol', 'kit'],
  balancer: ['protocol', 'kit'],
  server: ['protocol', 'kit'],
  client: ['protocol'],
  web: ['client', 'protocol'],
  testkit: ['protocol', 'client'],
  bots: ['client', 'protocol'],
  cli: ['protocol', 'kit', 'backend', 'balancer', 'server', 'bots'],
  bench: ['protocol', 'client', 'testkit', 'bots'],
};
// Test-only modules shared by a package's tests (`*.test-support.ts`) may use testkit, as tests do.
const TEST_SUPPORT = /\.test-support\.ts$/;
// Packages that run in browsers: no Node built-ins.
const BROWSER_SAFE = new Set(['protocol', 'client', 'web']);
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1] as string,
  );
}

test('workspace packages import only the packages below them', () => {
  for (const pkg of Object.keys(ALLOWED)) {
    for (const file of sourceFiles(join(PACKAGES, pkg, 'src'))) {
      for (const spec of importsOf(file)) {
        const m = /^@plexus\/([a-z]+)/.exec(spec);
        const allowed = TEST_SUPPORT.test(file) ? [...(ALLOWED[pkg] ?? []), 'testkit'] : ALLOWED[pkg];
        if (m) assert.ok(allowed?.includes(m[1] as string), `${file} imports ${spec}`);
        if (BROWSER_SAFE.has(pkg))
          assert.ok(!NODE_BUILTINS.has(spec), `${file} imports Node built-in ${spec}`);
        if (pkg === 'protocol')
          assert.ok(spec.startsWith('.'), `protocol has no dependencies: ${file} imports ${spec}`);
      }
    }
  }
});

test('every non-test module over 400 lines is explained in docs/architecture.md', () => {
  const doc = readFileSync(new URL('../docs/architecture.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Modules over 400 lines'));
  for (const pkg of readdirSync(PACKAGES)) {
    const src = join(PACKAGES, pkg, 'src');
    let files: string[];
    try {
      files = sourceFiles(src);
    } catch {
      continue; // not a package with sources
    }
    for (const file of files) {
      const lines = readFileSync(file, 'utf8').split('\n').length - 1;
      const name = `${pkg}/src/${file.slice(src.length + 1)}`;
      if (lines > 400) assert.ok(section.includes(`\`${name}\``), `${name} has ${lines} lines and no note`);
    }
  }
});
