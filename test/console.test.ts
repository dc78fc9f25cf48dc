import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Stack, startStack } from '@plexus/testkit';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, browserSkip as skip, WEB_ROOT } from './helpers.ts';

const OPERATOR_KEY = 'console-browser-operator-key';

/** Opens the console page and submits `key`; `errors` collects the page's uncaught errors. */
async function signIn(
  browser: Browser,
  balancerUrl: string,
  key: string,
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${balancerUrl}/admin`);
  await page.fill('#key', key);
  await page.click('#sign-in button[type="submit"]');
  return { page, errors };
}

describe('operator console', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(`${WEB_ROOT}/admin/index.html`), 'the console is built (npm run build:web)');
    stack = await startStack({ servers: 2, webRoot: WEB_ROOT, env: { PLEXUS_OPERATOR_KEY: OPERATOR_KEY } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('a wrong operator key is refused and the console stays hidden', async () => {
    const { page, errors } = await signIn(browser, stack.balancerUrl, 'not-the-operator-key-at-all');
    await page.waitForFunction(
      () => /Refused/.test(document.querySelector('#sign-in-error')?.textContent ?? ''),
      undefined,
      {
        timeout: 10_000,
      },
    );
    assert.equal(await page.isHidden('#console'), true);
    assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-out');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('signs in, lists the servers, drains one and shows its state change without a reload', async () => {
    const { page, errors } = await signIn(browser, stack.balancerUrl, OPERATOR_KEY);
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
    await page.waitForFunction(
      (n) => document.querySelectorAll('#servers tbody tr td.state[data-state="ready"]').length === n,
      stack.servers.length,
      { timeout: 10_000 },
    );
    const listed = await page.$$eval('#servers tbody tr', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.serverId as string),
    );
    assert.equal(listed.length, 2);

    // The key stays in the tab's memory: not in the URL, a cookie or Web Storage.
    const stored = await page.evaluate(() => ({
      cookie: document.cookie,
      local: localStorage.length,
      session: sessionStorage.length,
      url: location.href,
    }));
    assert.deepEqual(
      { ...stored, url: stored.url.includes(OPERATOR_KEY) },
      {
        cookie: '',
        local: 0,
        session: 0,
        url: false,
      },
    );

    // A marker that a reload would wipe.
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const target = listed[0] as string;
    // Snapshots arrive every second; they update rows in place, so a button pressed while one
    // arrives is still the button that gets the click.
    const drain = await page.$(`#servers tr[data-server-id="${target}"] button`);
    assert.ok(drain);
    await page.waitForTimeout(2_500);
    assert.equal(await drain.evaluate((b) => b.isConnected), true, 'the same button after new snapshots');
    await page.click(`#servers tr[data-server-id="${target}"] button`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForFunction(
      (id) => {
        const state = document.querySelector(`#servers tr[data-server-id="${id}"] td.state`);
        return state !== null && state.getAttribute('data-state') !== 'ready';
      },
      target,
      { timeout: 15_000 },
    );
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
    assert.match((await page.textContent('#log li[data-outcome="ok"]')) ?? '', new RegExp(`drain ${target}`));
    // The other server is still ready.
    const other = listed[1] as string;
    assert.equal(
      await page.getAttribute(`#servers tr[data-server-id="${other}"] td.state`, 'data-state'),
      'ready',
    );
    assert.deepEqual(errors, []);
    await page.close();
  });
});
