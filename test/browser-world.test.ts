import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type Playground, PlexusClient } from '@plexus/client';
import { type Stack, startStack } from '@plexus/testkit';
import type { Browser, Page } from 'playwright-core';
import { serveFiles, tetrahedronGlb } from './glb-fixture.ts';
import { joinDemo, launchChromium, browserSkip as skip, WEB_ROOT } from './helpers.ts';

interface DrawnAvatar {
  id: number;
  owner: number;
  name: string;
  self: boolean;
  position: { x: number; y: number; z: number };
  model: 'default' | 'custom';
  modelError?: string;
}

/** Largest custom avatar the stack under test allows (PLEXUS_WEB_AVATAR_MAX_BYTES). */
const AVATAR_MAX_BYTES = 64 * 1024;
type WorldWindow = Window & {
  __plexusWorld: {
    avatars(): DrawnAvatar[];
    objects(): { id: number; owner: number; label: string; screen: { x: number; y: number } }[];
  };
};

/** Waits until the page's scene satisfies `check` (evaluated in the page with `arg`). */
async function waitForScene<A>(page: Page, check: (arg: A) => boolean, arg: A): Promise<void> {
  await page.waitForFunction(check as (arg: unknown) => boolean, arg, { timeout: 10_000 });
}

const drawnAvatars = (page: Page): Promise<DrawnAvatar[]> =>
  page.evaluate(() => (window as unknown as WorldWindow).__plexusWorld.avatars());

async function bot(
  stack: Stack,
  playgroundId: string,
  firstName: string,
  incognito = false,
  avatarUrl?: string,
): Promise<Playground> {
  const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
  await client.loginAsGuest({ firstName, lastName: 'Bot' });
  if (incognito) await client.updateProfile({ privacyMode: 1 });
  if (avatarUrl) {
    await client.updateProfile({
      avatar3D: { assetId: 'tetra', assetSkins: {}, avatarUrl, avatarUserId: `${firstName}-avatar` },
    });
  }
  return client.join({ playgroundId });
}

/**
 * Distinct colours on a coarse grid of a PNG, decoded by the browser itself (no image library in
 * Node): a blank or failed WebGL canvas gives one or two.
 */
async function distinctColours(page: Page, png: Buffer): Promise<{ colours: number; greenish: number }> {
  return page.evaluate(async (base64) => {
    const blob = await (await fetch(`data:image/png;base64,${base64}`)).blob();
    const bitmap = await createImageBitmap(blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
    ctx.drawImage(bitmap, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    const seen = new Set<number>();
    let greenish = 0;
    for (let y = 0; y < height; y += 8) {
      for (let x = 0; x < width; x += 8) {
        const i = (y * width + x) * 4;
        const [r, g, b] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
        seen.add((r << 16) | (g << 8) | b);
        if (g > r && g > b) greenish++;
      }
    }
    return { colours: seen.size, greenish };
  }, png.toString('base64'));
}

describe('world page (3D)', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  // Two avatar hosts: one on the allow-list, one not.
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };
  before(async () => {
    assert.ok(existsSync(`${WEB_ROOT}/index.html`), 'the page is built (npm run build:web)');
    allowed = await serveFiles({
      '/ok.glb': tetrahedronGlb(),
      '/big.glb': tetrahedronGlb(2, AVATAR_MAX_BYTES * 2),
    });
    other = await serveFiles({ '/ok.glb': tetrahedronGlb() });
    stack = await startStack({
      servers: 1,
      webRoot: WEB_ROOT,
      env: {
        PLEXUS_WEB_AVATAR_ORIGINS: allowed.origin,
        PLEXUS_WEB_AVATAR_MAX_BYTES: String(AVATAR_MAX_BYTES),
      },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    allowed?.server.close();
    other?.server.close();
  });

  test('a guest joins and the scene renders one avatar per person; a second client moves its avatar', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'World Ada', 'world-hall');
    await waitForScene(
      page,
      () => (window as unknown as WorldWindow).__plexusWorld.avatars().length === 1,
      null,
    );
    const [own] = await drawnAvatars(page);
    assert.equal(own?.name, 'World Ada');
    assert.equal(own?.self, true);

    const pg = await bot(stack, 'world-hall', 'Bob');
    await waitForScene(
      page,
      () => (window as unknown as WorldWindow).__plexusWorld.avatars().some((a) => a.name === 'Bob Bot'),
      null,
    );
    assert.equal((await drawnAvatars(page)).length, 2, 'one avatar per person');

    // The bot walks; its drawn avatar follows (interpolated, so it arrives a little later).
    const target = { x: (own?.position.x ?? 0) + 3, y: 0, z: (own?.position.z ?? 0) - 2 };
    for (let i = 1; i <= 10; i++) {
      const from = pg.self?.position ?? target;
      pg.move({
        position: {
          x: from.x + (target.x - from.x) * (i / 10),
          y: 0,
          z: from.z + (target.z - from.z) * (i / 10),
        },
      });
      await new Promise((r) => setTimeout(r, 60));
    }
    pg.move({ position: target });
    await waitForScene(
      page,
      ({ id, x, z }) => {
        const a = (window as unknown as WorldWindow).__plexusWorld.avatars().find((v) => v.id === id);
        return !!a && Math.abs(a.position.x - x) < 0.05 && Math.abs(a.position.z - z) < 0.05;
      },
      { id: pg.selfId, ...target },
    );

    const png = await page.screenshot();
    const { colours, greenish } = await distinctColours(page, png);
    assert.ok(colours > 200, `the screenshot is not blank (${colours} colours)`);
    assert.ok(greenish > 100, `the ground is drawn (${greenish} green samples)`);
    const names = await page.textContent('#people-list');
    assert.match(names ?? '', /World Ada \(you\)/);
    assert.match(names ?? '', /Bob Bot/);
    assert.deepEqual(errors, []);
    await pg.leave();
    await page.close();
  });

  test("an incognito user's name tag is anonymous, and nothing else of them shows", async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Watcher', 'world-incognito');
    const pg = await bot(stack, 'world-incognito', 'Secret', true);
    await waitForScene(
      page,
      (owner) => (window as unknown as WorldWindow).__plexusWorld.avatars().some((a) => a.owner === owner),
      pg.clientId,
    );
    const tag = (await drawnAvatars(page)).find((a) => a.owner === pg.clientId);
    assert.match(tag?.name ?? '', /^Anonymous [0-9a-f]{4}$/);
    assert.doesNotMatch(await page.content(), /Secret/);
    assert.deepEqual(errors, []);
    await pg.leave();
    await page.close();
  });

  test('an object held by someone else is labelled with their name, and a grab is refused on the page', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Grabber', 'world-objects');
    const pg = await bot(stack, 'world-objects', 'Holder');
    await waitForScene(
      page,
      () => (window as unknown as WorldWindow).__plexusWorld.avatars().length === 2,
      null,
    );
    const own = (await drawnAvatars(page)).find((a) => a.self);
    assert.ok(own);
    // The spawner holds a new object: put it right next to the page's avatar.
    const spawned = await pg.spawn({
      kind: 'object',
      position: { x: own.position.x + 1, y: 0, z: own.position.z },
      props: { label: 'Crate', color: '#e76f51' },
    });
    assert.ok(spawned.ok);
    await waitForScene(
      page,
      () =>
        (window as unknown as WorldWindow).__plexusWorld
          .objects()
          .some((o) => o.label === 'Crate · held by Holder Bot'),
      null,
    );
    await page.keyboard.press('e');
    await page.waitForFunction(
      () => document.getElementById('notice')?.textContent === 'Holder Bot is holding it',
      null,
      { timeout: 10_000 },
    );
    // Once put down, the page grabs it and the label names the page's user.
    await pg.releaseAuthority(spawned.entityId);
    await waitForScene(
      page,
      () => (window as unknown as WorldWindow).__plexusWorld.objects().some((o) => o.owner === 0),
      null,
    );
    await page.keyboard.press('e');
    await waitForScene(
      page,
      () =>
        (window as unknown as WorldWindow).__plexusWorld
          .objects()
          .some((o) => o.label === 'Crate · held by you'),
      null,
    );
    assert.deepEqual(errors, []);
    await pg.leave();
    await page.close();
  });

  test('a click on an object grabs it, another click puts it down', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Clicker', 'world-click');
    await page.click('#spawn');
    // Spawned in front of the avatar and put down (server-owned) for anyone to grab.
    await waitForScene(
      page,
      () => (window as unknown as WorldWindow).__plexusWorld.objects().some((o) => o.owner === 0),
      null,
    );
    const [object] = await page.evaluate(() => (window as unknown as WorldWindow).__plexusWorld.objects());
    assert.ok(object);
    await page.mouse.click(object.screen.x, object.screen.y);
    await page.waitForSelector(`body[data-held="${object.id}"]`, { timeout: 10_000 });
    await waitForScene(
      page,
      () =>
        (window as unknown as WorldWindow).__plexusWorld
          .objects()
          .some((o) => o.label.endsWith('· held by you')),
      null,
    );
    // A click anywhere puts the held object down.
    await page.mouse.click(40, 200);
    await page.waitForSelector('body:not([data-held])', { timeout: 10_000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('chat goes both ways over custom messages and shows text, never markup', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Talker', 'world-chat');
    const pg = await bot(stack, 'world-chat', 'Listener');
    const heard = new Promise<unknown>((resolve) =>
      pg.on('message', (m) => {
        if (m.type === 'chat') resolve(m.payload);
      }),
    );
    await page.keyboard.press('Enter');
    await page.keyboard.type('hello world');
    await page.keyboard.press('Enter');
    assert.deepEqual(await heard, { text: 'hello world' });

    // The page names a sender by its avatar's tag: wait until the listener's avatar reached it (its
    // spawn comes with a tick, a MESSAGE at once).
    await waitForScene(
      page,
      (owner) =>
        ((window as unknown as WorldWindow).__plexusWorld.avatars() as DrawnAvatar[]).some(
          (a) => a.owner === owner,
        ),
      pg.clientId,
    );
    const hostile = '<img src=x onerror="window.__pwned=1">';
    pg.send('chat', { text: hostile });
    await page.waitForFunction(
      (text) => document.getElementById('chat-log')?.lastElementChild?.textContent?.endsWith(text) ?? false,
      hostile,
      { timeout: 10_000 },
    );
    assert.equal(await page.locator('#chat-log img').count(), 0);
    assert.match((await page.textContent('#chat-log li:last-child b')) ?? '', /^Listener Bot$/);
    assert.deepEqual(errors, []);
    await pg.leave();
    await page.close();
  });

  test('a custom .glb avatar is shown only from an allowed origin and within the size limit', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Viewer', 'world-avatars');
    const custom = await bot(stack, 'world-avatars', 'Shaped', false, `${allowed.origin}/ok.glb`);
    const elsewhere = await bot(stack, 'world-avatars', 'Elsewhere', false, `${other.origin}/ok.glb`);
    const heavy = await bot(stack, 'world-avatars', 'Heavy', false, `${allowed.origin}/big.glb`);
    await waitForScene(
      page,
      ({ customOwner, heavyOwner }) => {
        const drawn = (window as unknown as WorldWindow).__plexusWorld.avatars() as DrawnAvatar[];
        return (
          drawn.some((a) => a.owner === customOwner && a.model === 'custom') &&
          drawn.some((a) => a.owner === heavyOwner && a.modelError !== undefined)
        );
      },
      { customOwner: custom.clientId, heavyOwner: heavy.clientId },
    );
    const drawn = await drawnAvatars(page);
    const of = (pg: Playground) => drawn.find((a) => a.owner === pg.clientId);
    assert.equal(of(custom)?.model, 'custom');
    assert.equal(of(heavy)?.model, 'default');
    assert.match(of(heavy)?.modelError ?? '', /larger than 65536 bytes/);
    assert.equal(of(elsewhere)?.model, 'default', 'an origin off the list is never fetched');
    assert.equal(of(elsewhere)?.modelError, undefined);
    assert.deepEqual(errors, []);
    await Promise.all([custom.leave(), elsewhere.leave(), heavy.leave()]);
    await page.close();
  });
});
