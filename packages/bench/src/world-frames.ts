/**
 * Frame time of the world page with 100 walking avatars in view: starts the stack, opens the page
 * in headless Chromium (WebGL on SwiftShader, the CPU), joins 100 light bots (@plexus/bots) that
 * random-walk in a 20 m square around the page's avatar, and reads the page's frame statistics
 * (`window.__plexusWorld.stats()`) over a window. Prints JSON; the README quotes it.
 * `node packages/bench/src/world-frames.ts [avatars] [seconds]`.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Swarm } from '@plexus/bots';
import { launchChromium, startStack } from '@plexus/testkit';

const avatars = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 10);
const webRoot = fileURLToPath(new URL('../../web/dist', import.meta.url));
const PLAYGROUND = 'frames';

const stack = await startStack({
  servers: 1,
  webRoot,
  env: {
    PLEXUS_DS_CAPACITY: String(avatars + 10),
    // Every client comes from 127.0.0.1: lift the per-address limits meant for the internet.
    PLEXUS_DS_MAX_SOCKETS_PER_ADDRESS: '100000',
    PLEXUS_DS_MAX_PENDING_HANDSHAKES_PER_ADDRESS: '100000',
  },
});
const browser = await launchChromium();
const swarm = new Swarm({
  balancerUrl: stack.balancerUrl,
  playgroundId: PLAYGROUND,
  spread: 20,
  observers: 0,
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`${stack.balancerUrl}/`);
  const readyMs = await page.evaluate(async () => {
    while (performance.getEntriesByName('plexus-world-ready').length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return performance.getEntriesByName('plexus-world-ready')[0]?.startTime ?? 0;
  });
  await page.fill('#name', 'Frame Counter');
  await page.fill('#playground', PLAYGROUND);
  await page.click('#join');
  await page.waitForSelector('body[data-state="joined"]', { timeout: 60_000 });
  await swarm.join(avatars - 1);
  const joined = swarm.progress();
  if (joined.connected < avatars - 1)
    throw new Error(`only ${joined.connected} bots joined: ${JSON.stringify(joined)}`);
  await page.waitForFunction((n) => (window.__plexusWorld?.avatars().length ?? 0) >= n, avatars, {
    timeout: 120_000,
  });
  // Let the dynamic resolution settle, then measure.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  await page.evaluate(() => window.__plexusWorld?.resetStats());
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const stats = await page.evaluate(() => window.__plexusWorld?.stats());
  const drawn = await page.evaluate(() => window.__plexusWorld?.avatars().length);
  process.stdout.write(
    `${JSON.stringify(
      {
        avatarsDrawn: drawn,
        viewport: '1280x720',
        readyAfterNavigationMs: Math.round(readyMs),
        ...stats,
        cpus: cpus().length,
        loadAverage1m: loadavg()[0],
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await swarm.close();
  await browser.close();
  await stack.stop();
}
