import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadPlaygroundTypeModules, PlaygroundTypes } from '../type-registry.ts';

test('docs/playground-logic.md shows the meeting room exactly as it ships', () => {
  const doc = readFileSync(new URL('../../../../../docs/playground-logic.md', import.meta.url), 'utf8');
  const code = readFileSync(new URL('./meeting-room.ts', import.meta.url), 'utf8');
  assert.ok(doc.includes(code), 'the example in the doc differs from meeting-room.ts');
});

test('the meeting room loads as a module and is picked by the type map', async () => {
  const types = await loadPlaygroundTypeModules([new URL('./meeting-room.ts', import.meta.url).pathname]);
  const registry = new PlaygroundTypes(types, [{ pattern: 'meeting-*', type: 'meeting-room' }]);
  assert.equal(registry.resolve('meeting-42').name, 'meeting-room');
  assert.equal(registry.resolve('lobby').name, 'open-world');
  assert.throws(
    () => new PlaygroundTypes([], [{ pattern: 'x', type: 'meeting-room' }]),
    /unknown playground type/,
  );
});
