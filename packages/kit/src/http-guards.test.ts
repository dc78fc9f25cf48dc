import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ok } from './envelope.ts';
import { jsonTooDeep } from './http-guards.ts';
import { createHttpServer, type HttpServerOptions } from './http-server.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';

async function listen(options: Partial<HttpServerOptions> = {}) {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const app = createHttpServer({
    logger: createLogger({ component: 'test', level: 'silent', destination: sink }),
    metrics: createMetrics('test'),
    ...options,
  });
  app.post('/echo', async (req) => ok(req.body));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, port };
}

/** Sends raw bytes and resolves with everything the server wrote before it closed the socket. */
function rawExchange(port: number, bytes: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${timeoutMs} ms; got ${JSON.stringify(text)}`));
    }, timeoutMs);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(bytes);
  });
}

function envelopeOf(response: string): { status: number; code: number } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
  const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as {
    data: unknown;
    error: { status: boolean; code: number };
  };
  assert.equal(body.data, null);
  assert.equal(body.error.status, true);
  return { status, code: body.error.code };
}

test('JSON nested past the limit is 400 COMMON_JSON_TOO_DEEP; strings with brackets do not count', async () => {
  const { app } = await listen();
  const deep = `{"criteria":${'['.repeat(4_400)}${']'.repeat(4_400)}}`;
  const postJson = (payload: string) =>
    app.inject({ method: 'POST', url: '/echo', payload, headers: { 'content-type': 'application/json' } });
  const res = await postJson(deep);
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().error.code, 1010);
  const shallow = JSON.stringify({ text: '[[[[{{{{'.repeat(100), list: [[1], [2]] });
  const fine = await postJson(shallow);
  assert.equal(fine.statusCode, 200);
  assert.deepEqual(fine.json().data, JSON.parse(shallow));
  assert.equal(jsonTooDeep('"\\"[[[["'), false);
  await app.close();
});

test('a bad request line, oversized headers and a late request are answered in the envelope', async () => {
  const { app, port } = await listen({ headersTimeoutMs: 300 });
  assert.deepEqual(envelopeOf(await rawExchange(port, 'GARBAGE\r\n\r\n')), { status: 400, code: 1000 });
  const huge = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
  assert.deepEqual(envelopeOf(await rawExchange(port, huge)), { status: 431, code: 1008 });
  // Headers that never end: closed at the header deadline (plus node's 1 s check), not ~30 s later.
  const slow = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 5_000);
  assert.deepEqual(envelopeOf(slow), { status: 408, code: 1009 });
  await app.close();
});

test('one address hoarding connections is capped; a fresh address is still answered', async () => {
  const limit = 20;
  const { app, port } = await listen({ maxConnectionsPerAddress: limit });
  const sockets: Socket[] = [];
  let closed = 0;
  const hoarders = 500;
  const allClosed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${closed} of ${hoarders - limit} excess sockets closed`)),
      10_000,
    );
    for (let i = 0; i < hoarders; i++) {
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
      s.on('error', () => {});
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
      s.on('close', () => {
        if (++closed === hoarders - limit) {
          clearTimeout(timer);
          resolve();
        }
      });
      sockets.push(s);
    }
  });
  await allClosed;
  const fresh = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
    });
    s.on('error', reject);
    s.on('close', () => resolve(text));
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  assert.match(fresh, /^HTTP\/1\.1 200/);
  assert.equal(sockets.filter((s) => !s.destroyed).length, limit);
  for (const s of sockets) s.destroy();
  await app.close();
});
