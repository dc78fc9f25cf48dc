/**
 * Takes the README screenshots into docs/images/: starts the stack on ephemeral ports with the
 * built web pages, runs every shot (or those named on the command line) in headless Chromium, and
 * stops everything. Run with `npm run screenshots` (which builds the pages first).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../browser.ts';
import { startStack } from '../stack.ts';
import { consoleShot } from './console.ts';
import type { Shot } from './shot.ts';
import { worldShot } from './world.ts';

const SHOTS: readonly Shot[] = [worldShot, consoleShot];
/** Only for this throwaway stack on ephemeral loopback ports. */
const OPERATOR_KEY = 'screenshot-operator-key';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const webRoot = `${root}packages/web/dist`;
const outDir = `${root}docs/images`;

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !SHOTS.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown shot(s): ${unknown.join(', ')}; known: ${SHOTS.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
if (!existsSync(`${webRoot}/index.html`)) {
  process.stderr.write('the web pages are not built: run npm run build:web\n');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

// Two servers, so that the console shows a fleet.
const stack = await startStack({ servers: 2, webRoot, env: { PLEXUS_OPERATOR_KEY: OPERATOR_KEY } });
const browser = await launchChromium();
try {
  for (const shot of SHOTS.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
    const file = `${outDir}/${shot.file}`;
    const started = performance.now();
    await shot.take({ stack, browser, file, operatorKey: OPERATOR_KEY });
    process.stdout.write(`${shot.name}: ${file} (${Math.round(performance.now() - started)} ms)\n`);
  }
} finally {
  await browser.close();
  await stack.stop();
}
