import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import { encodeHello, PROTOCOL_VERSION, ServerOp } from '@plexus/protocol';
import { type Stack, startStack, waitFor } from '@plexus/testkit';
import { post } from './helpers.ts';
import { rawConnect, withTimeout } from './raw-socket.ts';

// Ctrl-C under `npm start`: the terminal sends SIGINT to every process of its group, then
// `plexus dev` stops its children with SIGTERM. A dedicated server must take the pair as one
// shutdown — one drain, exit 0 — not as a second signal that exits 1 mid-drain.
describe('shutdown signals', () => {
  let stack: Stack;
  before(async () => {
    // The drain waits for its clients up to this long; the test's client never leaves by itself.
    stack = await startStack({ servers: 2, env: { PLEXUS_DS_DRAIN_TIMEOUT_MS: '3000' } });
  });
  after(async () => {
    await stack?.stop();
  });

  test('SIGINT then SIGTERM during the drain: one shutdown, one drain, exit 0', async () => {
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
    await client.loginAsGuest({ firstName: 'Stayer' });
    const res = await post(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, {
      sessionId: client.sessionId,
      playgroundId: 'ctrl-c',
    });
    const { endpoint, ticket, serverId } = res.body.data as {
      endpoint: string;
      ticket: string;
      serverId: string;
    };
    const host = stack.server(serverId);
    assert.ok(host, 'the hosting server is one of the stack');
    // A raw client that ignores the REDIRECT keeps the drain waiting for it.
    const sock = rawConnect(endpoint);
    await sock.opened;
    sock.send(encodeHello(PROTOCOL_VERSION, ticket));
    await waitFor(() => sock.frames.some((f) => f.op === ServerOp.STATE), {
      timeoutMs: 5000,
      what: 'WELCOME',
    });

    host.proc.kill('SIGINT');
    await waitFor(() => sock.frames.some((f) => f.op === ServerOp.REDIRECT), {
      timeoutMs: 10_000,
      what: 'the drain redirecting the client',
    });
    // The drain now waits for the client: the supervisor's SIGTERM arrives in the middle of it.
    host.proc.kill('SIGTERM');
    const code = await withTimeout(host.exited, 30_000, 'the server to exit');
    assert.equal(code, 0, 'a drain that ran to its end');
    const said = (msg: string) => host.logs.filter((r) => r.msg === msg).length;
    assert.equal(said('shutting down'), 1);
    assert.equal(said('already shutting down'), 1);
    assert.equal(said('drain: playground relocated'), 1, 'one drain');
    assert.equal(said('stopped'), 1);
  });
});
