/**
 * Builds the world page and the operator console into dist/: bundles each with esbuild (with the
 * SDK it imports) and copies its static files. Run with `npm run build -w @plexus/web` (Node 24 runs this file as is).
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

/** One page: its bundle (with the SDK it imports) and its static files, copied beside it. */
async function page(dir: string, entry: string, bundle: string, statics: string[]): Promise<void> {
  await build({
    entryPoints: [join(src, dir, entry)],
    outfile: join(dist, dir, bundle),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of statics) await copyFile(join(src, dir, file), join(dist, dir, file));
}

// The world page (/) and the operator console (/admin on the balancer): separate bundles.
await page('', 'main.ts', 'app.js', ['index.html', 'style.css']);
await page('admin', 'console.ts', 'console.js', ['index.html', 'console.css']);

console.log(`@plexus/web built into ${dist} in ${Math.round(performance.now() - started)} ms`);
