import { type Playground, PlexusClient } from '@plexus/client';
import type { Shot, ShotContext } from './shot.ts';

/**
 * The operator console (docs/images/console.png): a few guests seated in three playgrounds, one
 * short stay for the analytics, then /admin signed in with the operator key.
 */
async function take({ stack, browser, file, operatorKey }: ShotContext): Promise<void> {
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
    await page.fill('#key', operatorKey);
    await page.click('#sign-in button[type="submit"]');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
    // A snapshot that shows every seated guest, then the analytics charts.
    await page.waitForFunction(
      (n) =>
        [...document.querySelectorAll('#playgrounds tbody tr')].reduce(
          (sum, row) => sum + Number((row as HTMLTableRowElement).cells[1]?.textContent ?? 0),
          0,
        ) >= n,
      joined.length,
      { timeout: 15_000 },
    );
    await page.click('#analytics-refresh');
    await page.waitForSelector('#chart-joins rect', { timeout: 10_000 });
    await page.screenshot({ path: file, fullPage: true });
    await page.close();
  } finally {
    for (const pg of joined) await pg.leave().catch(() => {});
  }
}

export const consoleShot: Shot = { name: 'console', file: 'console.png', take };
