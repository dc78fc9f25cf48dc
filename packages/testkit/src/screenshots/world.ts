import { type Playground, PlexusClient, type Vec3 } from '@plexus/client';
import type { Page } from 'playwright-core';
import type { Shot, ShotContext } from './shot.ts';

const PLAYGROUND = 'lobby';
/** Bots walk at this pace (the server refuses faster moves), metres per 50 ms step. */
const STEP_M = 0.3;

interface Extra {
  name: [first: string, last: string];
  incognito?: boolean;
  /** Where to stand, relative to the page's avatar (the camera looks along -z). */
  at: [dx: number, dz: number];
  /** Where to look, relative to the page's avatar. */
  face: [dx: number, dz: number];
  say?: string;
  /** An object to put down in front of them (released), or to hold. */
  object?: { label: string; color: string; shape: 'box' | 'sphere'; hold: boolean };
}

const EXTRAS: readonly Extra[] = [
  {
    name: ['Grace', 'Hopper'],
    at: [-2.4, -4],
    face: [0, 0],
    say: 'Welcome to the plaza! Press E next to a box to pick it up.',
    object: { label: 'Ball', color: '#e76f51', shape: 'sphere', hold: false },
  },
  {
    name: ['Alan', 'Turing'],
    at: [2.6, -5.2],
    face: [-2.4, -4],
    say: 'Over here, the crate is free.',
    object: { label: 'Crate', color: '#2a9d8f', shape: 'box', hold: false },
  },
  { name: ['Hidden', 'Person'], incognito: true, at: [0.6, -8], face: [0, 0] },
  { name: ['Katherine', 'Johnson'], at: [-5.2, -8.5], face: [-2.4, -4] },
  {
    name: ['Margaret', 'Hamilton'],
    at: [-5.6, -3.2],
    face: [-3, 1],
    object: { label: 'Lamp', color: '#e9c46a', shape: 'box', hold: true },
  },
  { name: ['Tim', 'Berners-Lee'], at: [-0.8, -13], face: [3, -8] },
];

/** The world page with a handful of people, objects (one carried) and a few chat lines. */
export const worldShot: Shot = {
  name: 'world',
  file: 'world.png',
  async take({ stack, browser, file }: ShotContext): Promise<void> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const bots: Playground[] = [];
    try {
      // Full resolution however slow the CPU renderer is: this is a still picture.
      await page.goto(`${stack.balancerUrl}/?resolution=fixed`);
      await page.fill('#name', 'Ada Lovelace');
      await page.fill('#playground', PLAYGROUND);
      await page.click('#join');
      await page.waitForSelector('body[data-state="joined"]', { timeout: 30_000 });
      const origin = await ownPosition(page);

      for (const extra of EXTRAS) bots.push(await joinBot(stack.balancerUrl, extra));
      await Promise.all(EXTRAS.map((extra, i) => place(bots[i] as Playground, extra, origin)));
      for (const [i, extra] of EXTRAS.entries()) {
        const pg = bots[i] as Playground;
        if (extra.object) await putObject(pg, extra, origin);
      }
      for (const [i, extra] of EXTRAS.entries()) {
        if (extra.say) (bots[i] as Playground).send('chat', { text: extra.say });
      }
      await page.keyboard.press('Enter');
      await page.keyboard.type('Hi everyone! Nice trees.');
      await page.keyboard.press('Enter');
      await page.click('#view', { position: { x: 1000, y: 80 } });

      // A three-quarter view: drag the camera a little to the right and up.
      await page.mouse.move(640, 300);
      await page.mouse.down();
      await page.mouse.move(600, 310, { steps: 4 });
      await page.mouse.up();

      await page.waitForFunction(
        (n) =>
          (window.__plexusWorld?.avatars().length ?? 0) >= n &&
          (window.__plexusWorld?.objects().length ?? 0) >= 3,
        EXTRAS.length + 1,
        { timeout: 30_000 },
      );
      // Let interpolation settle and a few frames draw the final state.
      await page.evaluate(() => window.__plexusWorld?.resetStats());
      await page.waitForFunction(() => (window.__plexusWorld?.stats().frames ?? 0) >= 4, null, {
        timeout: 60_000,
      });
      await page.screenshot({ path: file });
    } finally {
      await Promise.all(bots.map((pg) => pg.leave()));
      await page.close();
    }
  },
};

/** Where the page's own avatar stands, once the scene draws it. */
async function ownPosition(page: Page): Promise<Vec3> {
  const own = await page.waitForFunction(
    () => window.__plexusWorld?.avatars().find((a) => a.self)?.position,
    null,
    {
      timeout: 30_000,
    },
  );
  return (await own.jsonValue()) as Vec3;
}

async function joinBot(balancerUrl: string, extra: Extra): Promise<Playground> {
  const client = new PlexusClient({ balancerUrl });
  await client.loginAsGuest({ firstName: extra.name[0], lastName: extra.name[1] });
  if (extra.incognito) await client.updateProfile({ privacyMode: 1 });
  return client.join({ playgroundId: PLAYGROUND });
}

/** Walks the bot to its spot at a legal pace, then turns it to face its target. */
async function place(pg: Playground, extra: Extra, origin: Vec3): Promise<void> {
  const target = { x: origin.x + extra.at[0], y: 0, z: origin.z + extra.at[1] };
  let at = { ...(pg.self?.position ?? target) };
  for (;;) {
    const dx = target.x - at.x;
    const dz = target.z - at.z;
    const d = Math.hypot(dx, dz);
    at = d <= STEP_M ? target : { x: at.x + (dx / d) * STEP_M, y: 0, z: at.z + (dz / d) * STEP_M };
    pg.move({ position: at });
    if (at === target) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const yaw = Math.atan2(-(origin.x + extra.face[0] - target.x), -(origin.z + extra.face[1] - target.z));
  pg.move({ position: target, rotation: { x: 0, y: Math.sin(yaw / 2), z: 0, w: Math.cos(yaw / 2) } });
}

/** Spawns the bot's object in front of it; puts it down unless the bot is to hold it. */
async function putObject(pg: Playground, extra: Extra, origin: Vec3): Promise<void> {
  const object = extra.object;
  if (!object) return;
  const self = { x: origin.x + extra.at[0], z: origin.z + extra.at[1] };
  const towards = { x: origin.x + extra.face[0] - self.x, z: origin.z + extra.face[1] - self.z };
  const d = Math.hypot(towards.x, towards.z) || 1;
  const reach = object.hold ? 0.9 : 1.3;
  const outcome = await pg.spawn({
    kind: 'object',
    position: { x: self.x + (towards.x / d) * reach, y: 0, z: self.z + (towards.z / d) * reach },
    props: { label: object.label, color: object.color, shape: object.shape },
  });
  if (!outcome.ok) throw outcome.error;
  if (!object.hold) await pg.releaseAuthority(outcome.entityId);
}
