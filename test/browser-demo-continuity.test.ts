import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Stack, startStack, waitFor } from '@plexus/testkit';
import { type Browser, chromium } from 'playwright-core';
import { post } from './helpers.ts';

const CHROMIUM = process.env.PLEXUS_CHROMIUM_PATH ?? '/usr/bin/chromium';
const WEB_ROOT = fileURLToPath(new URL('../packages/web/dist', import.meta.url));
// As in browser-demo.test.ts: skipped on a machine without Chromium, always run in CI.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no Chromium at ${CHROMIUM}` : false;
const OPERATOR_KEY = 'demo-continuity-operator-key';

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
      env: { PLEXUS_CHECKPOINT_MS: '200', PLEXUS_OPERATOR_KEY: OPERATOR_KEY },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('when its server dies the page shows reconnecting…, then reconnected (N ms), and keeps its avatar', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${stack.balancerUrl}/`);
    await page.fill('#name', 'Phoenix');
    await page.fill('#playground', 'demo-continuity');
    await page.click('#join');
    await page.waitForSelector('body[data-state="joined"]', { timeout: 15_000 });
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
        const res = await post(
          `${stack.backendUrl}/api/v0/operatorRpc/checkpoints.get`,
          { playgroundId: 'demo-continuity' },
          { authorization: `Bearer ${OPERATOR_KEY}` },
        );
        const avatars: { entityId: number }[] = res.body.data?.checkpoint?.state?.avatars ?? [];
        return avatars.some((a) => a.entityId === before.selfId);
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
