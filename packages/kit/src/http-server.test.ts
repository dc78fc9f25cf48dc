import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { AppError } from './app-error.ts';
import { z } from './config.ts';
import { ok } from './envelope.ts';
import { createHttpServer, parseInput } from './http-server.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';

function makeApp(ready = true) {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const app = createHttpServer({
    logger: createLogger({ component: 'test', level: 'silent', destination: sink }),
    metrics: createMetrics('test'),
    bodyLimitBytes: 100,
    isReady: () => ready,
  });
  app.post('/echo', async (req) => ok(parseInput(z.object({ a: z.string() }).strict(), req.body)));
  app.post('/conflict', async () => {
    throw new AppError('AUTH_EMAIL_TAKEN');
  });
  app.post('/boom', async () => {
    throw new Error('secret internals');
  });
  return app;
}

const post = (app: ReturnType<typeof makeApp>, url: string, payload: string, type = 'application/json') =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });

test('success and every failure use the envelope with a matching status', async () => {
  const app = makeApp();
  const cases: [string, string, string, number, number][] = [
    ['/echo', '{"a":"x"}', 'application/json', 200, 0],
    ['/echo', '{bad', 'application/json', 400, 1001],
    ['/echo', '{"a":1}', 'application/json', 400, 1000],
    ['/echo', '{"a":"x","b":1}', 'application/json', 400, 1000],
    ['/echo', `{"a":"${'x'.repeat(200)}"}`, 'application/json', 413, 1003],
    ['/echo', 'a=1', 'text/plain', 415, 1006],
    ['/conflict', '{}', 'application/json', 409, 2003],
    ['/boom', '{}', 'application/json', 500, 1005],
    ['/missing', '{}', 'application/json', 404, 1002],
  ];
  for (const [url, payload, type, status, code] of cases) {
    const res = await post(app, url, payload, type);
    const body = res.json() as { data: unknown; error: { status: boolean; code: number; message: string } };
    assert.equal(res.statusCode, status, `${url} ${payload}`);
    assert.equal(body.error.code, code, `${url} ${payload}`);
    assert.equal(body.error.status, code !== 0);
    if (code !== 0) assert.equal(body.data, null);
  }
  const boom = (await post(app, '/boom', '{}')).json() as { error: { message: string } };
  assert.ok(!boom.error.message.includes('secret'), 'internal error details are not leaked');
  await app.close();
});

test('health, readiness and metrics', async () => {
  const app = makeApp(false);
  assert.equal((await app.inject('/healthz')).statusCode, 200);
  assert.equal((await app.inject('/readyz')).statusCode, 503);
  await post(app, '/echo', '{"a":"x"}');
  const metrics = await app.inject('/metrics');
  assert.match(metrics.body, /plexus_test_http_requests_total\{method="POST",route="\/echo",status="200"/);
  assert.match(metrics.body, /plexus_test_http_request_duration_seconds_bucket/);
  await app.close();
});
