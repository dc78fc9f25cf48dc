/**
 * Builds the browser demo into dist/: bundles src/main.ts (and the SDK it imports) with esbuild and
 * copies the static files. Run with `npm run build -w @plexus/web` (Node 24 runs this file as is).
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = import.meta.dirname;
const src = join(root, 'src');
const dist = join(root, 'dist');
const started = performance.now();

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

await build({
  entryPoints: [join(src, 'main.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});

for (const file of ['index.html', 'style.css']) await copyFile(join(src, file), join(dist, file));

// The operator console (/admin on the balancer): its own bundle, sharing nothing with the world page.
await build({
  entryPoints: [join(src, 'admin', 'console.ts')],
  outfile: join(dist, 'admin', 'console.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'console.css']) {
  await copyFile(join(src, 'admin', file), join(dist, 'admin', file));
}

console.log(`@plexus/web built into ${dist} in ${Math.round(performance.now() - started)} ms`);
