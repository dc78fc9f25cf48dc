import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnalyticsRecorder } from './analytics-recorder.ts';
import { HttpBackendClient } from './backend-client.ts';
import { closedPort, silentLogger } from './test-support.ts';

test('with the backend down, the buffer stays bounded and every lost event is counted', async () => {
  const backend = new HttpBackendClient({
    backendUrl: `http://127.0.0.1:${await closedPort()}`,
    partnerKey: 'unused-partner-key-123',
    timeoutMs: 500,
    logger: silentLogger(),
  });
  let dropped = 0;
  const recorder = new AnalyticsRecorder({
    backend,
    logger: silentLogger(),
    onDropped: (n) => {
      dropped += n;
    },
    flushIntervalMs: 60_000,
    batchSize: 4,
    maxBuffered: 5,
  });
  // Recording never waits for the backend: it returns nothing to await, and the buffer is bounded
  // at once, before any flush could have run.
  for (let i = 0; i < 10; i++) {
    assert.equal(recorder.record({ type: 'refused', at: Date.now(), data: { reason: 'X' } }), undefined);
  }
  assert.ok(recorder.buffered <= 5);
  await recorder.close();
  assert.equal(recorder.buffered, 0);
  assert.equal(dropped, 10);
});
