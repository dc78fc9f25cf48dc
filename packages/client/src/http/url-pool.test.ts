import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ErrorCodes } from '@plexus/protocol';
import { PlexusError } from '../errors.ts';
import { UrlPool, worthAnotherUrl } from './url-pool.ts';

// Real HTTP servers on 127.0.0.1: one that answers, one that says it is unavailable, one that says
// the cluster is full, one that answers garbage, and the URL of a closed port (connection refused).
type Answer = [status: number, body: string];
const envelope = (data: unknown): Answer => [
  200,
  JSON.stringify({ data, error: { status: false, code: 0, message: '' } }),
];
const failure = (name: keyof typeof ErrorCodes): Answer => {
  const spec = ErrorCodes[name];
  return [
    spec.status,
    JSON.stringify({ data: null, error: { status: true, code: spec.code, message: spec.message } }),
  ];
};

const servers: Server[] = [];
const hits = new Map<string, number>();
let live = '';
let live2 = '';
let unavailable = '';
let full = '';
let garbage = '';
let dead = '';

async function serve(name: string, answer: () => Answer): Promise<string> {
  const server = createServer((req, res) => {
    hits.set(name, (hits.get(name) ?? 0) + 1);
    req.resume();
    req.on('end', () => {
      const [status, body] = answer();
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  live = await serve('live', () => envelope({ who: 'live' }));
  live2 = await serve('live2', () => envelope({ who: 'live2' }));
  unavailable = await serve('unavailable', () => failure('LB_BACKEND_UNAVAILABLE'));
  full = await serve('full', () => failure('LB_NO_CAPACITY'));
  garbage = await serve('garbage', () => [502, '<html>Bad gateway</html>']);
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

after(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

const post = (pool: UrlPool) => pool.post<{ who: string }>('/x', {}, { timeoutMs: 2000 });

test('a dead, an unavailable and a garbage-answering instance are skipped; the one that answered is kept', async () => {
  hits.clear();
  const pool = new UrlPool([dead, unavailable, garbage, live, live2], 0);
  assert.equal((await post(pool)).who, 'live');
  assert.deepEqual([hits.get('unavailable'), hits.get('garbage'), hits.get('live')], [1, 1, 1]);
  // The next request goes straight to the instance that answered.
  assert.equal((await post(pool)).who, 'live');
  assert.equal(pool.preferred, live);
  assert.deepEqual([hits.get('unavailable'), hits.get('garbage'), hits.get('live')], [1, 1, 2]);
});

test('tries wrap around the list from the preferred URL, each URL once per request', async () => {
  hits.clear();
  const pool = new UrlPool([live2, dead, unavailable], 1);
  assert.equal((await post(pool)).who, 'live2');
  assert.equal(hits.get('unavailable'), 1);
});

test('a verdict about the cluster or the request is the answer: no other URL is tried', async () => {
  hits.clear();
  const pool = new UrlPool([full, live], 0);
  await assert.rejects(post(pool), { name: 'LB_NO_CAPACITY' });
  assert.equal(hits.get('live'), undefined);
  assert.equal(pool.preferred, full, 'an instance that answered is alive');
});

test('when every URL fails, the last failure is thrown', async () => {
  const pool = new UrlPool([dead, unavailable], 0);
  await assert.rejects(post(pool), { name: 'LB_BACKEND_UNAVAILABLE' });
  await assert.rejects(post(new UrlPool(dead)), { name: 'CLIENT_NETWORK_ERROR' });
  assert.throws(() => new UrlPool([]), TypeError);
});

test('a random start spreads clients over the list', () => {
  const starts = new Set<string>();
  for (let i = 0; i < 200; i++) starts.add(new UrlPool([live, live2, full]).preferred);
  assert.equal(starts.size, 3);
});

test('worthAnotherUrl: network, timeout, non-envelope and 502/503/504 answers — not cluster verdicts', () => {
  assert.equal(worthAnotherUrl(PlexusError.of('CLIENT_TIMEOUT')), true);
  assert.equal(worthAnotherUrl(PlexusError.of('COMMON_UNAVAILABLE')), true);
  assert.equal(worthAnotherUrl(new PlexusError(9999, 'gateway', { status: 504 })), true);
  assert.equal(worthAnotherUrl(PlexusError.of('MATCH_NO_PLAYGROUND')), false);
  assert.equal(worthAnotherUrl(PlexusError.of('AUTH_INVALID_SESSION')), false);
  assert.equal(worthAnotherUrl(PlexusError.of('COMMON_INTERNAL')), false);
});
