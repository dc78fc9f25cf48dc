import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTROL_PATH } from '@plexus/protocol';
import { startStack, waitUntil } from '../testing/stack.ts';
import { controlUrl } from './control-client.ts';

test('the control URL swaps http for ws and uses CONTROL_PATH', () => {
  assert.equal(controlUrl('http://127.0.0.1:8080'), `ws://127.0.0.1:8080${CONTROL_PATH}`);
  assert.equal(controlUrl('https://lb.example.test/base?x=1'), `wss://lb.example.test${CONTROL_PATH}`);
});

test('a refused control socket (wrong secret) is retried with backoff and the server stays unready', async () => {
  const stack = await startStack({ clusterSecret: 'the-wrong-cluster-secret' }, { answerRegister: false });
  try {
    await waitUntil(() => stack.balancer.refusedUpgrades >= 3);
    assert.equal(stack.balancer.received.length, 0);
    const res = await fetch(`${stack.server.url}/readyz`);
    await res.arrayBuffer();
    assert.equal(res.status, 503);
  } finally {
    await stack.close();
  }
});
