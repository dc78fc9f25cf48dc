import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import { readCheckpoint, type Stack, startStack, waitFor } from '@plexus/testkit';
import type { Browser } from 'playwright-core';
import { joinDemo, launchChromium, browserSkip as skip, WEB_ROOT } from './helpers.ts';

type DemoWindow = Window & {
  plexusDemo?: { playground: { serverId: string; selfId: number; state: string } };
  demoStates?: string[];
};
type WorldWindow = Window & {
  __plexusWorld: { avatars(): { id: number }[]; connection(): string };
};

describe('browser demo: continuity', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(`${WEB_ROOT}/index.html`), 'the demo is built (npm run build:web)');
    stack = await startStack({
      servers: 2,
      webRoot: WEB_ROOT,
      env: { PLEXUS_CHECKPOINT_MS: '200' },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('when its server dies the page shows reconnecting…, then resumed after N ms, and keeps its avatars', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Phoenix', 'demo-continuity');
    // Someone else in the playground, whose avatar the page must keep drawing across the failover.
    const other = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await other.loginAsGuest({ firstName: 'Wren' });
    const otherPg = await other.join({ playgroundId: 'demo-continuity' });
    const drawnIds = (): Promise<number[]> =>
      page.evaluate(() =>
        (window as WorldWindow).__plexusWorld
          .avatars()
          .map((a) => a.id)
          .sort((a, b) => a - b),
      );
    await page.waitForFunction(() => (window as WorldWindow).__plexusWorld.avatars().length === 2, null, {
      timeout: 10_000,
    });
    const avatarsBefore = await drawnIds();
    assert.match(await page.evaluate(() => (window as WorldWindow).__plexusWorld.connection()), /^connected/);
    // Every value body[data-state] takes from now on (the reconnecting phase may be short).
    await page.evaluate(() => {
      const w = window as DemoWindow;
      w.demoStates = [];
      new MutationObserver(() => w.demoStates?.push(document.body.dataset.state ?? '')).observe(
        document.body,
        {
          attributes: true,
          attributeFilter: ['data-state'],
        },
      );
    });
    const before = await page.evaluate(() => {
      const pg = (window as DemoWindow).plexusDemo?.playground;
      return { serverId: pg?.serverId, selfId: pg?.selfId };
    });
    const host = stack.servers.find((s) => s.name === before.serverId);
    assert.ok(host, `the page is on ${before.serverId}`);
    // Its avatar is in a checkpoint, so the next host can restore it.
    await waitFor(
      async () => {
        const checkpoint = await readCheckpoint(stack.backendUrl, stack.partnerKey, 'demo-continuity');
        const ids = checkpoint?.state.avatars.map((a) => a.entityId) ?? [];
        return ids.includes(before.selfId ?? -1) && ids.includes(otherPg.selfId);
      },
      { timeoutMs: 10_000, what: 'a checkpoint holding both avatars' },
    );

    await host.kill();
    await page.waitForFunction(
      () => /resumed after \d+ ms/.test(document.getElementById('connection')?.textContent ?? ''),
      null,
      {
        timeout: 20_000,
      },
    );
    const after = await page.evaluate(() => {
      const w = window as DemoWindow;
      return {
        state: document.body.dataset.state,
        states: w.demoStates,
        serverId: w.plexusDemo?.playground.serverId,
        selfId: w.plexusDemo?.playground.selfId,
        pgState: w.plexusDemo?.playground.state,
      };
    });
    assert.equal(after.state, 'joined');
    assert.equal(after.pgState, 'connected');
    assert.ok(after.states?.includes('reconnecting'), `states: ${after.states?.join()}`);
    assert.ok(!after.states?.includes('disconnected'));
    assert.notEqual(after.serverId, before.serverId);
    assert.equal(after.selfId, before.selfId, 'the same avatar');
    // The scene still draws both people, under the same ids (the other client resumed as well).
    await page.waitForFunction(() => (window as WorldWindow).__plexusWorld.avatars().length === 2, null, {
      timeout: 10_000,
    });
    assert.deepEqual(await drawnIds(), avatarsBefore);
    assert.deepEqual(errors, []);
    await otherPg.leave();
    await page.close();
  });
});
