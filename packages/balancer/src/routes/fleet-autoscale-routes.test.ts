import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { ErrorCodes } from '@plexus/protocol';
import { type BalancerHandle, startBalancer } from '../start.ts';
import { ControlClient, registerMessage, silentLogger, testConfig, waitFor } from '../test-support.ts';
import { FLEET_AUTOSCALE_PATH } from './fleet-autoscale-routes.ts';

// The FleetAutoscaler's Webhook policy asks the balancer (docs/deploy.md#scaling): a
// FleetAutoscaleReview in, the same kind with `response` out, as Agones documents.

let lb: BalancerHandle;
const clients: ControlClient[] = [];

before(async () => {
  lb = await startBalancer(testConfig({ autoscaleMinFreeSeats: 50, autoscaleMaxFreeSeats: 250 }), {
    logger: silentLogger(),
  });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await lb.close();
});

const review = (replicas: number, uid = 'c6a1b1d2-review') => ({
  apiVersion: 'autoscaling.agones.dev/v1',
  kind: 'FleetAutoscaleReview',
  request: {
    uid,
    name: 'plexus-ds',
    namespace: 'plexus',
    status: { replicas, readyReplicas: 0, reservedReplicas: 0, allocatedReplicas: replicas },
  },
});

async function ask(body: unknown) {
  const res = await fetch(`${lb.url}${FLEET_AUTOSCALE_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('answers a FleetAutoscaleReview with the replicas the seat demand needs', async () => {
  for (const id of ['ds-a', 'ds-b']) {
    const c = new ControlClient(lb.url);
    clients.push(c);
    await c.opened;
    c.send(registerMessage(id, { capacity: 100 }));
    await c.nextOfType('registered');
    c.send({
      type: 'load',
      players: 95,
      playgrounds: [{ playgroundId: `pg-${id}`, players: 95 }],
      cpu: 0,
      tickMs: 0,
    });
  }
  const servers = async () =>
    (
      (await (await fetch(`${lb.url}/lb/api/v0/servers`)).json()) as {
        data: { servers: { players: number }[] };
      }
    ).data.servers;
  await waitFor(async () => (await servers()).every((s) => s.players === 95), 3_000, 'the load reports');
  // 10 free seats < 50: one server more.
  assert.deepEqual(await ask(review(2)), {
    status: 200,
    body: {
      apiVersion: 'autoscaling.agones.dev/v1',
      kind: 'FleetAutoscaleReview',
      response: { uid: 'c6a1b1d2-review', scale: true, replicas: 3 },
    },
  });
  // A third replica still starting counts as free seats: no further scale.
  const starting = await ask(review(3, 'second'));
  assert.deepEqual(starting.body.response, { uid: 'second', scale: false, replicas: 3 });
});

test('a malformed review is a 400 envelope naming the field, and the balancer keeps serving', async () => {
  const bad = await ask({ ...review(2), request: { uid: 'x', name: 'plexus-ds', namespace: 'plexus' } });
  assert.equal(bad.status, 400);
  assert.equal((bad.body.error as { code: number }).code, ErrorCodes.COMMON_BAD_REQUEST.code);
  assert.match((bad.body.error as { message: string }).message, /request\.status/);
  assert.equal((await ask(review(2))).status, 200);
});

test('reviews are rate-limited per address: 429 in the envelope past the burst', async () => {
  // From 127.0.0.2, so the other tests' address keeps its own allowance.
  const fromOtherAddress = (body: unknown) =>
    new Promise<{ status: number; body: { error: { code: number } } }>((resolve, reject) => {
      const req = request(
        `${lb.url}${FLEET_AUTOSCALE_PATH}`,
        { method: 'POST', localAddress: '127.0.0.2', headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const statuses: number[] = [];
  let last: { status: number; body: { error: { code: number } } } | undefined;
  for (let i = 0; i < 25; i++) {
    last = await fromOtherAddress(review(1, `burst-${i}`));
    statuses.push(last.status);
  }
  assert.deepEqual(statuses.slice(0, 20), Array(20).fill(200));
  assert.equal(last?.status, 429);
  assert.equal(last?.body.error.code, ErrorCodes.COMMON_RATE_LIMITED.code);
});
