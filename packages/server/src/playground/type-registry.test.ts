import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadServerConfig } from '../config.ts';
import { checkPlaygroundType, PlaygroundTypes, parseTypeMap } from './type-registry.ts';

test('type map rules: exact ids and prefixes, first match wins, in order', () => {
  const rules = parseTypeMap('vip-lounge=b, vip-*=a ,*=c');
  assert.deepEqual(rules, [
    { pattern: 'vip-lounge', type: 'b' },
    { pattern: 'vip-*', type: 'a' },
    { pattern: '*', type: 'c' },
  ]);
  const types = new PlaygroundTypes([{ name: 'a' }, { name: 'b' }, { name: 'c' }], rules);
  assert.equal(types.resolve('vip-lounge').name, 'b');
  assert.equal(types.resolve('vip-1').name, 'a');
  assert.equal(types.resolve('other').name, 'c');
  assert.equal(new PlaygroundTypes().resolve('anything').name, 'open-world');
  assert.throws(() => parseTypeMap('novalue'), /pattern=type/);
});

test('config: types and map from the environment or a file object', () => {
  const c = loadServerConfig({
    PLEXUS_DS_PLAYGROUND_TYPES: './a.ts, ./b.ts',
    PLEXUS_DS_PLAYGROUND_TYPE_MAP: 'room-*=meeting-room',
  });
  assert.deepEqual(c.playgroundTypes, ['./a.ts', './b.ts']);
  assert.deepEqual(c.playgroundTypeMap, [{ pattern: 'room-*', type: 'meeting-room' }]);
  assert.equal(c.defaultPlaygroundType, 'open-world');
  const f = loadServerConfig({}, { playgroundTypeMap: { 'x-*': 'y' }, playgroundTypes: ['./t.ts'] });
  assert.deepEqual(f.playgroundTypeMap, [{ pattern: 'x-*', type: 'y' }]);
  assert.throws(() => loadServerConfig({ PLEXUS_DS_PLAYGROUND_TYPE_MAP: 'oops' }), /playgroundTypeMap/);
});

test('a malformed type is refused with its source named', () => {
  assert.throws(() => checkPlaygroundType(undefined, 'm.ts'), /m.ts: the module must default-export/);
  assert.throws(() => checkPlaygroundType({ name: 'bad name' }, 'm.ts'), /name must be/);
  assert.throws(
    () => checkPlaygroundType({ name: 'x', interest: { radiusM: -1 } }, 'm.ts'),
    /interest.radiusM/,
  );
  assert.throws(() => checkPlaygroundType({ name: 'x', onTick: 3 }, 'm.ts'), /onTick must be a function/);
  assert.throws(
    () =>
      checkPlaygroundType(
        { name: 'x', kinds: { box: { props: { n: { type: 'number', min: 3, max: 1 } } } } },
        'm.ts',
      ),
    /kind box: n: min > max/,
  );
});
