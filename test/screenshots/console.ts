/**
 * Takes the README's screenshot of the operator console (docs/images/console.png): boots a stack
 * with two dedicated servers, seats a few guests in three playgrounds, signs in to /admin and
 * captures the page. Run after `npm run build:web`:
 *   node test/screenshots/console.ts [output.png]
 */
import { resolve } from 'node:path';
import { type Playground, PlexusClient } from '@plexus/client';
import { startStack } from '@plexus/testkit';
import { launchChromium, WEB_ROOT } from '../helpers.ts';

const OPERATOR_KEY = 'screenshot-operator-key';
const output = resolve(process.argv[2] ?? 'docs/images/console.png');

const stack = await startStack({ servers: 2, webRoot: WEB_ROOT, env: { PLEXUS_OPERATOR_KEY: OPERATOR_KEY } });
const browser = await launchChromium();
const joined: Playground[] = [];
try {
  const places = ['expo-hall', 'expo-hall', 'expo-hall', 'expo-hall', 'lobby', 'lobby', 'meeting-room'];
  for (const [i, playgroundId] of places.entries()) {
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await client.loginAsGuest({ firstName: `Guest ${i + 1}` });
    joined.push(await client.join({ playgroundId }));
  }
  // One short stay, so the analytics have a session length.
  await joined.pop()?.leave();

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${stack.balancerUrl}/admin`);
  await page.fill('#key', OPERATOR_KEY);
  await page.click('#sign-in button[type="submit"]');
  await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
  // Wait for a snapshot that shows every seated guest, then for the analytics charts.
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll('#playgrounds tbody tr')].reduce(
        (sum, row) => sum + Number((row as HTMLTableRowElement).cells[1]?.textContent ?? 0),
        0,
      ) === n,
    joined.length,
    { timeout: 15_000 },
  );
  await page.click('#analytics-refresh');
  await page.waitForSelector('#chart-joins rect', { timeout: 10_000 });
  await page.screenshot({ path: output, fullPage: true });
  process.stdout.write(`console screenshot written to ${output}\n`);
} finally {
  for (const pg of joined) await pg.leave().catch(() => {});
  await browser.close();
  await stack.stop();
}
