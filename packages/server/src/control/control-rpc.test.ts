import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@plexus/protocol';
import { ControlRpc, ControlRpcError, type RpcLink } from './control-rpc.ts';

/** A link that records what it was asked to send. */
function link(registered = true) {
  const sent: { id: number; method: string; params: Record<string, unknown> }[] = [];
  const l = {
    isRegistered: registered,
    sent,
    sendText(text: string) {
      if (!l.isRegistered) return false;
      sent.push(JSON.parse(text));
      return true;
    },
  };
  return l;
}

const claim = { serverId: 'ds', playgroundId: 'p' };

test('a call goes over the first registered link and resolves with its answer', async () => {
  const a = link(false);
  const b = link();
  const rpc = new ControlRpc(() => [a, b]);
  const p = rpc.call('checkpoints.claim', claim, { timeoutMs: 1_000 });
  assert.equal(a.sent.length, 0);
  const msg = b.sent[0];
  assert.ok(msg);
  assert.deepEqual(
    { method: msg.method, params: msg.params },
    { method: 'checkpoints.claim', params: claim },
  );
  rpc.onResult({ type: 'rpcResult', id: msg.id, data: { epoch: 3, checkpoint: null } });
  assert.deepEqual(await p, { epoch: 3, checkpoint: null });
});

test('an error answer rejects with its code; a late or unknown answer is ignored', async () => {
  const a = link();
  const rpc = new ControlRpc(() => [a]);
  const p = rpc.call(
    'checkpoints.write',
    { ...claim, epoch: 1, version: 2, state: {} as never },
    { timeoutMs: 1_000 },
  );
  const { status, code, message } = { ...ErrorCodes.CHECKPOINT_STALE };
  rpc.onResult({ type: 'rpcResult', id: a.sent[0]?.id as number, error: { status, code, message } });
  const err = await p.catch((e: unknown) => e);
  assert.ok(err instanceof ControlRpcError && err.is('CHECKPOINT_STALE'));
  rpc.onResult({ type: 'rpcResult', id: 999, data: {} });
});

test('with no link up a call waits for one, and fails DS_NO_BALANCER at its deadline', async () => {
  const a = link(false);
  const rpc = new ControlRpc(() => [a]);
  const waited = rpc.call('checkpoints.claim', claim, { timeoutMs: 2_000 });
  a.isRegistered = true;
  rpc.linkUp();
  const id = a.sent[0]?.id as number;
  rpc.onResult({ type: 'rpcResult', id, data: { epoch: 1, checkpoint: null } });
  assert.deepEqual(await waited, { epoch: 1, checkpoint: null });

  a.isRegistered = false;
  const err = await rpc.call('checkpoints.claim', claim, { timeoutMs: 30 }).catch((e: unknown) => e);
  assert.ok(err instanceof ControlRpcError && err.is('DS_NO_BALANCER'));
  a.isRegistered = true;
  const sent = rpc.call('checkpoints.claim', claim, { timeoutMs: 30 }).catch((e: unknown) => e);
  assert.ok((await sent) instanceof ControlRpcError);
  assert.ok(((await sent) as ControlRpcError).is('DS_CONTROL_TIMEOUT'), 'sent but unanswered');
});

test('a dropped link: retryable calls go out again on another, the others fail at once', async () => {
  const a = link();
  const b = link();
  const links: RpcLink[] = [a, b];
  const rpc = new ControlRpc(() => links);
  const retried = rpc.call('checkpoints.claim', claim, { timeoutMs: 1_000, retry: true });
  const once = rpc.call(
    'events.publish',
    { target: { all: true }, type: 't', payload: null },
    { timeoutMs: 1_000 },
  );
  assert.equal(a.sent.length, 2);
  a.isRegistered = false;
  rpc.linkDown(a);
  const err = await once.catch((e: unknown) => e);
  assert.ok(err instanceof ControlRpcError && err.is('DS_NO_BALANCER'));
  const again = b.sent[0];
  assert.equal(again?.method, 'checkpoints.claim');
  rpc.onResult({ type: 'rpcResult', id: again?.id as number, data: { epoch: 2, checkpoint: null } });
  assert.deepEqual(await retried, { epoch: 2, checkpoint: null });
});

test('params over the size bound are refused before sending', async () => {
  const a = link();
  const rpc = new ControlRpc(() => [a]);
  const err = await rpc
    .call(
      'players.save',
      { serverId: 'ds', playgroundId: 'p', players: [] },
      { timeoutMs: 100, maxParamsBytes: 10 },
    )
    .catch((e: unknown) => e);
  assert.ok(err instanceof ControlRpcError && err.is('COMMON_PAYLOAD_TOO_LARGE'));
  assert.equal(a.sent.length, 0);
});
