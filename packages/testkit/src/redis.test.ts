import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startRedis } from './redis.ts';

/** Sends one inline command and resolves with the reply's first `lines` lines (rejects when nothing listens). */
function command(port: number, line: string, lines = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(2_000, () => socket.destroy(new Error('no reply')));
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const parts = reply.split('\r\n');
      if (parts.length > lines) {
        socket.end();
        resolve(parts.slice(0, lines).join(' '));
      }
    });
    socket.on('error', reject);
  });
}

test('startRedis runs a real redis-server without persistence, on a port it frees at stop', async () => {
  const redis = await startRedis();
  assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await command(redis.port, 'PING'), '+PONG');
  assert.equal(await command(redis.port, 'CONFIG GET save', 5), '*2 $4 save $0 ');
  assert.equal(await command(redis.port, 'CONFIG GET appendonly', 5), '*2 $10 appendonly $2 no');
  await redis.stop();
  await redis.stop(); // idempotent
  await assert.rejects(command(redis.port, 'PING'));
  // The same port can host a new server (outage tests restart Redis where it was).
  const again = await startRedis({ port: redis.port });
  try {
    assert.equal(await command(again.port, 'PING'), '+PONG');
  } finally {
    await again.stop();
  }
});
