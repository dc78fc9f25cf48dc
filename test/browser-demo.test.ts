import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import { type Stack, startStack } from '@plexus/testkit';
import type { Browser } from 'playwright-core';
import { joinDemo, launchChromium, browserSkip as skip, WEB_ROOT } from './helpers.ts';

describe('browser demo', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(`${WEB_ROOT}/index.html`), 'the demo is built (npm run build:web)');
    stack = await startStack({ servers: 1, webRoot: WEB_ROOT });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('a guest joins from the page and sees another client move', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Browser Ada', 'demo-hall');

    const bot = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await bot.loginAsGuest({ firstName: 'Bot', lastName: 'Bob' });
    const pg = await bot.join({ playgroundId: 'demo-hall' });
    // The page sees the bot arrive with its name…
    await page.waitForFunction(
      () => {
        const demo = (
          window as unknown as {
            plexusDemo?: { playground: { entities: Map<number, { props: { displayName?: string } }> } };
          }
        ).plexusDemo;
        return [...(demo?.playground.entities.values() ?? [])].some((e) => e.props.displayName === 'Bot Bob');
      },
      undefined,
      { timeout: 10_000 },
    );
    // …and move.
    pg.move({ position: { x: 2.5, y: 0, z: 1.25 }, rotation: { x: 0, y: 0, z: 0, w: 1 } });
    await page.waitForFunction(
      (id) => {
        const demo = (
          window as unknown as {
            plexusDemo: { playground: { entities: Map<number, { position: { x: number; z: number } }> } };
          }
        ).plexusDemo;
        const e = demo.playground.entities.get(id);
        return !!e && Math.abs(e.position.x - 2.5) < 0.01 && Math.abs(e.position.z - 1.25) < 0.01;
      },
      pg.selfId,
      { timeout: 10_000 },
    );
    // The page itself moves its avatar with the keyboard; the bot sees it.
    const pageSelf = await page.evaluate(
      () =>
        (window as unknown as { plexusDemo: { playground: { selfId: number } } }).plexusDemo.playground
          .selfId,
    );
    const startX = pg.entities.get(pageSelf)?.position.x ?? 0;
    await page.keyboard.down('ArrowRight');
    const deadline = Date.now() + 10_000;
    while ((pg.entities.get(pageSelf)?.position.x ?? startX) < startX + 0.5 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.keyboard.up('ArrowRight');
    assert.ok(
      (pg.entities.get(pageSelf)?.position.x ?? startX) >= startX + 0.5,
      'the bot saw the page avatar move',
    );
    await page.screenshot({ path: `${stack.dataDir}/demo.png` });
    assert.deepEqual(errors, []);
    await pg.leave();
  });

  test('the page spawns and grabs a shared object; another client is refused and sees it carried', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Page Pat', 'demo-objects');
    const pageClientId = await page.evaluate(
      () =>
        (window as unknown as { plexusDemo: { playground: { clientId: number } } }).plexusDemo.playground
          .clientId,
    );

    const bot = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await bot.loginAsGuest({ firstName: 'Bot' });
    const pg = await bot.join({ playgroundId: 'demo-objects' });
    const objectId = (): number | undefined => [...pg.entities.values()].find((e) => e.kind === 'object')?.id;
    const waitFor = async (check: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    // Spawn: the bot sees the object, put down (server-owned) for anyone to grab.
    await page.click('#spawn');
    await waitFor(() => objectId() !== undefined, 'the spawned object');
    const id = objectId() as number;
    await waitFor(() => pg.entities.get(id)?.owner === 0, 'the object to be put down');

    // The page grabs it (E near it); the bot sees who holds it and is refused.
    await page.keyboard.press('e');
    await page.waitForSelector(`body[data-held="${id}"]`, { timeout: 10_000 });
    await waitFor(() => pg.entities.get(id)?.owner === pageClientId, 'the page to hold the object');
    const refused = await pg.requestAuthority(id);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.error.name, 'PROTOCOL_AUTHORITY_HELD');

    // The page walks; the held object follows and the bot sees it move.
    const startX = pg.entities.get(id)?.position.x ?? 0;
    await page.keyboard.down('ArrowRight');
    try {
      await waitFor(() => (pg.entities.get(id)?.position.x ?? startX) >= startX + 0.5, 'the object to move');
    } finally {
      await page.keyboard.up('ArrowRight');
    }
    assert.equal(pg.entities.get(id)?.owner, pageClientId);
    await page.screenshot({ path: `${stack.dataDir}/demo-objects.png` });
    assert.deepEqual(errors, []);
    await pg.leave();
  });
});
