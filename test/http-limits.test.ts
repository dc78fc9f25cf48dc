import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Stack, startStack } from '@plexus/testkit';

/** Opens `count` sockets from `localAddress`, each sending a request whose headers never end. */
function hoard(url: string, count: number, localAddress: string): Socket[] {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = connect({ host: hostname, port: Number(port), localAddress });
    s.on('error', () => {});
    s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
    sockets.push(s);
  }
  return sockets;
}

/** Resolves once at most `limit` of the sockets are still open (the server closed the rest). */
async function cappedAt(sockets: Socket[], limit: number, what: string): Promise<void> {
  const open = () => sockets.filter((s) => !s.destroyed).length;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`${what}: ${open()} sockets of one address still open, cap ${limit}`));
    }, 15_000);
    const poll = setInterval(() => {
      if (open() > limit) return;
      clearTimeout(timer);
      clearInterval(poll);
      resolve();
    }, 50);
  });
}

/** GET /healthz over a fresh socket bound to `localAddress`; resolves with the raw response. */
function healthFrom(url: string, localAddress: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: hostname, port: Number(port), localAddress });
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no /healthz answer from ${url} within 5 s`));
    }, 5_000);
    s.on('data', (d) => {
      text += d.toString();
    });
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
}

// Issue 10 item 5: one address hoarding half-sent requests must not starve an HTTP listener.
describe('HTTP connection limits on every listener', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      servers: 1,
      env: {
        PLEXUS_BACKEND_MAX_CONNECTIONS_PER_ADDRESS: '100',
        PLEXUS_LB_MAX_CONNECTIONS_PER_ADDRESS: '100',
      },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  test('thousands of partial requests from one address are capped; a fresh address gets /healthz', async () => {
    const ds = stack.servers[0];
    assert.ok(ds);
    // The dedicated server's cap is its socket limits plus 16: 64 + 16 + 16 by default.
    const targets: [string, string, number][] = [
      ['backend', stack.backendUrl, 100],
      ['balancer', stack.balancerUrl, 100],
      ['dedicated server', ds.url, 96],
    ];
    const all: Socket[] = [];
    try {
      for (const [what, url, cap] of targets) {
        const sockets = hoard(url, 1_500, '127.0.0.1');
        all.push(...sockets);
        await cappedAt(sockets, cap, what);
        assert.match(
          await healthFrom(url, '127.0.0.2'),
          /^HTTP\/1\.1 200/,
          `${what} answers a fresh address`,
        );
      }
    } finally {
      for (const s of all) s.destroy();
    }
  });
});
