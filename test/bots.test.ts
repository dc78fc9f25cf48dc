import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runSwarm, type SwarmSummary } from '@plexus/bots';
import { type Stack, startStack } from '@plexus/testkit';

const CLI = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));

function assertSane(s: SwarmSummary, count: number): void {
  assert.equal(s.joined, count, s.errors.join('; '));
  assert.equal(s.failed, 0);
  assert.equal(s.disconnects, 0);
  assert.ok(s.joinMs.p50 > 0 && s.joinMs.p99 >= s.joinMs.p50);
  assert.ok(s.latencyMs.samples > 0, 'latency measured');
  assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p99 >= s.latencyMs.p50 && s.latencyMs.p99 < 2000);
  assert.ok(s.bytesPerClientPerSec > 0);
  assert.ok(s.movesSent > 0);
}

describe('bot swarm', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ servers: 1 });
  });
  after(async () => {
    await stack.stop();
  });

  test('runSwarm joins every bot through the balancer and measures latency and bytes', async () => {
    const summary = await runSwarm({
      balancerUrl: stack.balancerUrl,
      playgroundId: 'swarm-lib',
      count: 20,
      observers: 5,
      durationS: 3,
    });
    assertSane(summary, 20);
    assert.equal(summary.observers, 5);
  });

  test('plexus bots --json prints the summary as JSON and exits 0', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [CLI, 'bots', '--balancer', stack.balancerUrl, '--count', '20', '--playground', 'swarm-cli'].concat([
        '--duration',
        '3',
        '--spread',
        '30',
        '--name',
        'CliBot',
        '--json',
      ]),
      { timeout: 60_000 },
    );
    const summary = JSON.parse(stdout) as SwarmSummary;
    assertSane(summary, 20);
    assert.match(stderr, /joined 20\/20/, 'progress on stderr');
  });
});
