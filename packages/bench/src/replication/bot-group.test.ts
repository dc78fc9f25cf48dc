import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dealOut } from './bot-group.ts';
import { botLimited, holds, type StepResult } from './run-step.ts';

test('--bot-procs deals new clients to the least loaded processes', () => {
  assert.deepEqual(dealOut([0, 0, 0], 10), [4, 3, 3]);
  assert.deepEqual(dealOut([5, 0], 7), [1, 6]);
  assert.deepEqual(dealOut([2], 3), [3]);
});

const step = (over: Partial<StepResult>): StepResult => ({
  system: 'plexus',
  workload: 'W1',
  n: 800,
  joined: 800,
  failed: 0,
  disconnects: 0,
  cpuPct: 50,
  rssMiB: 100,
  bytesPerClientPerSec: 1000,
  latencyP50: 30,
  latencyP99: 60,
  latencySamples: 100,
  tickP99: 10,
  botCpuPct: 50,
  botCpuMaxPct: 50,
  botProcs: 1,
  movesPerClientPerSec: 20,
  joinP50: 10,
  errors: [],
  ...over,
});

test('a step is marked bot-limited when it fails to hold with a saturated bot process and an unsaturated server', () => {
  assert.equal(botLimited(step({ latencyP99: 200, botCpuPct: 97, botCpuMaxPct: 97 })), true);
  assert.equal(
    botLimited(step({ latencyP99: 200, cpuPct: 95, botCpuMaxPct: 97 })),
    false,
    'the server saturated',
  );
  assert.equal(botLimited(step({ latencyP99: 200, botCpuPct: 120, botCpuMaxPct: 60, botProcs: 2 })), false);
  const held = step({ botCpuMaxPct: 95 });
  assert.equal(holds(held), true);
  assert.equal(botLimited(held), false, 'a step that holds had no limit');
});

test('a step is marked bot-limited when the bots fell behind their moves, whatever their CPU share', () => {
  assert.equal(botLimited(step({ latencyP99: 200, botCpuMaxPct: 45, movesPerClientPerSec: 10 })), true);
  assert.equal(
    botLimited(step({ latencyP99: 200, botCpuMaxPct: 45, movesPerClientPerSec: 19.5 })),
    false,
    'on pace',
  );
  assert.equal(
    botLimited(step({ workload: 'idle', latencyP99: 200, botCpuMaxPct: 45, movesPerClientPerSec: 0 })),
    false,
    'idle bots do not move',
  );
});
