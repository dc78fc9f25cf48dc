import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '@plexus/kit';
import { createBalancerApp } from './app.ts';
import { startBalancer } from './start.ts';
import { silentLogger, testConfig } from './test-support.ts';

const webRoot = mkdtempSync(join(tmpdir(), 'plexus-lb-web-'));
after(() => rmSync(webRoot, { recursive: true, force: true }));

test('with PLEXUS_WEB_ROOT the demo is served at /, and the API still answers', async () => {
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>Plexus demo</title>');
  writeFileSync(join(webRoot, 'app.js'), 'export {};');
  const b = await createBalancerApp({ config: testConfig({ webRoot }), logger: silentLogger() });
  try {
    const index = await b.app.inject({ method: 'GET', url: '/' });
    assert.equal(index.statusCode, 200);
    assert.match(index.headers['content-type'] as string, /text\/html/);
    assert.match(index.body, /Plexus demo/);
    const js = await b.app.inject({ method: 'GET', url: '/app.js' });
    assert.equal(js.statusCode, 200);
    const missing = await b.app.inject({ method: 'GET', url: '/missing.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 1002);
    const servers = await b.app.inject({ method: 'GET', url: '/lb/api/v0/servers' });
    assert.deepEqual(servers.json().data, { servers: [], dead: [] });
  } finally {
    await b.app.close();
  }
});

test('the world page reads its avatar allow-list and size limit from the balancer', async () => {
  const b = await createBalancerApp({
    config: testConfig({ webAvatarOrigins: ['https://models.example.com'], webAvatarMaxBytes: 65_536 }),
    logger: silentLogger(),
  });
  try {
    const res = await b.app.inject({ method: 'GET', url: '/lb/api/v0/webConfig' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      data: { avatarOrigins: ['https://models.example.com'], avatarMaxBytes: 65_536 },
      error: { status: false, code: 0, message: '' },
    });
  } finally {
    await b.app.close();
  }
});

test('without a web root, / describes the API', async () => {
  const b = await createBalancerApp({ config: testConfig(), logger: silentLogger() });
  try {
    const res = await b.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().data.service, 'plexus-balancer');
    assert.equal(res.json().data.endpoints.getEndpoint, 'POST /lb/api/v0/getEndpoint');
  } finally {
    await b.app.close();
  }
});

test('/readyz is 503 until listening, 200 once listening; /metrics exposes the balancer series', async () => {
  const b = await createBalancerApp({ config: testConfig(), logger: silentLogger() });
  const before = await b.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(before.statusCode, 503);
  await b.app.close();

  const lines: string[] = [];
  const logger = createLogger({
    component: 'balancer',
    destination: { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream,
  });
  const handle = await startBalancer(testConfig(), { logger });
  try {
    assert.match(handle.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const listening = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'listening');
    assert.deepEqual(
      listening.map((l) => l.url),
      [handle.url],
    );
    assert.equal((await fetch(`${handle.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${handle.url}/metrics`)).text();
    for (const name of [
      'plexus_lb_registered_servers',
      'plexus_lb_players',
      'plexus_lb_tickets_issued_total',
      'plexus_lb_placement_refusals_total',
      'plexus_lb_auth_check_duration_seconds',
      'plexus_lb_connected_servers',
      'plexus_lb_servers_dead_total',
      'plexus_lb_playgrounds_replaced_total',
      'plexus_lb_control_rpcs_total',
      'plexus_lb_events_delivered_total',
      'plexus_lb_analytics_dropped_total',
    ]) {
      assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
  } finally {
    await handle.close();
  }
});
