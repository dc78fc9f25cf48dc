import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { createLogger } from '@plexus/kit';
import { loadBackendConfig } from './config.ts';
import { startBackend } from './start.ts';

const dir = mkdtempSync(join(tmpdir(), 'plexus-backend-start-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('startBackend migrates, listens on an ephemeral port, logs the URL once, and closes idempotently', async () => {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
  });
  const logger = createLogger({ component: 'backend', level: 'info', destination: stream });
  const dataDir = join(dir, 'data');
  const config = loadBackendConfig({ PLEXUS_DATA_DIR: dataDir }, { port: 0 });
  const handle = await startBackend(config, { logger });
  let sessionId = '';
  try {
    assert.match(handle.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const ready = await fetch(`${handle.url}/readyz`);
    assert.equal(ready.status, 200);
    const guest = await fetch(`${handle.url}/api/v0/rpc/auth.guest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: 'Net' }),
    });
    assert.equal(guest.status, 200);
    const { data } = (await guest.json()) as { data: { sessionId: string } };
    sessionId = data.sessionId;
    const check = await fetch(`${handle.url}/api/v0/partnerRpc/authCheck.getUserBySessionId`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${config.partnerKey}` },
      body: JSON.stringify({ sessionId: data.sessionId }),
    });
    assert.equal(check.status, 200);
  } finally {
    await handle.close();
    await handle.close();
  }
  const listening = lines.filter((l) => l.msg === 'listening');
  assert.equal(listening.length, 1);
  assert.equal(listening[0]?.url, handle.url);
  const all = JSON.stringify(lines);
  assert.equal(all.includes(config.partnerKey), false);
  assert.equal(all.includes(sessionId), false);
  await assert.rejects(fetch(`${handle.url}/healthz`));
});
