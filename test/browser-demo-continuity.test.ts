import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { readCheckpoint, type Stack, startStack, waitFor } from '@plexus/testkit';
import type { Browser } from 'playwright-core';
import { joinDemo, launchChromium, browserSkip as skip, WEB_ROOT } from './helpers.ts';

type DemoWindow = Window & {
  plexusDemo?: { playground: { serverId: string; selfId: number; state: string } };
  demoStates?: string[];
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

  test('when its server dies the page shows reconnecting…, then reconnected (N ms), and keeps its avatar', async () => {
    const { page, errors } = await joinDemo(browser, stack.balancerUrl, 'Phoenix', 'demo-continuity');
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
        return checkpoint?.state.avatars.some((a) => a.entityId === before.selfId) ?? false;
      },
      { timeoutMs: 10_000, what: 'a checkpoint holding the page avatar' },
    );

    await host.kill();
    await page.waitForFunction(
      () => /reconnected \(\d+ ms/.test(document.getElementById('status')?.textContent ?? ''),
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
    assert.deepEqual(errors, []);
    await page.close();
  });
});
