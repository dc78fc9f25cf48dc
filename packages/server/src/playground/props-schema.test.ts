import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeProps, type PropsSchema, schemaProblem, validateNewProps } from './props-schema.ts';

const schema: PropsSchema = {
  color: { type: 'string', maxLength: 4, default: 'red' },
  size: { type: 'number', min: 0.5, max: 2, default: 1 },
  count: { type: 'number', integer: true },
  lit: { type: 'boolean' },
  target: { type: 'vec3', maxAbs: 100 },
  shape: { type: 'enum', values: ['box', 'sphere'] },
  secret: { type: 'string', maxLength: 8, serverOnly: true },
};

test('a new entity gets the defaults and its own valid values', () => {
  const v = validateNewProps(schema, { shape: 'sphere', target: { x: 1, y: 2, z: 3 } }, 'client');
  assert.deepEqual(v, {
    ok: true,
    props: { color: 'red', size: 1, shape: 'sphere', target: { x: 1, y: 2, z: 3 } },
  });
});

test('every kind of mismatch is refused with the key named', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ nope: 1 }, /unknown property "nope"/],
    [{ color: 'purple' }, /"color" must be at most 4/],
    [{ color: 3 }, /"color" must be a string/],
    [{ size: 3 }, /"size" must be ≤ 2/],
    [{ size: 0.1 }, /"size" must be ≥ 0.5/],
    [{ count: 1.5 }, /"count" must be an integer/],
    [{ lit: 'yes' }, /"lit" must be a boolean/],
    [{ target: { x: 1, y: 2 } }, /"target" must be/],
    [{ target: { x: 1, y: 2, z: 1000 } }, /"target" z must be/],
    [{ shape: 'cone' }, /"shape" must be one of box\|sphere/],
    [{ secret: 'x' }, /"secret" is set by the server only/],
    [{ color: null }, /"color" must not be null/],
  ];
  for (const [props, reason] of bad) {
    const v = validateNewProps(schema, props as never, 'client');
    assert.equal(v.ok, false, JSON.stringify(props));
    if (!v.ok) assert.match(v.reason, reason);
  }
  assert.equal(validateNewProps(schema, { secret: 'x' }, 'server').ok, true);
});

test('updates merge: listed keys replace, null deletes (back to the default), current is untouched', () => {
  const current = { color: 'red', size: 1.5, lit: true };
  const v = mergeProps(schema, current, { size: null, lit: null, shape: 'box' }, 'client');
  assert.deepEqual(v, { ok: true, props: { color: 'red', size: 1, shape: 'box' } });
  assert.deepEqual(current, { color: 'red', size: 1.5, lit: true });
  assert.equal(mergeProps(schema, current, { size: 9 }, 'client').ok, false);
});

test('schemas are checked when a type is loaded', () => {
  assert.equal(schemaProblem(schema), null);
  assert.match(schemaProblem({ n: { type: 'number', min: 2, max: 1 } }) ?? '', /min > max/);
  assert.match(schemaProblem({ e: { type: 'enum', values: [] } }) ?? '', /enum/);
  assert.match(schemaProblem({ s: { type: 'string', maxLength: 2, default: 'long' } }) ?? '', /default/);
});

test('string props refuse control and bidi-override characters; multi-line ones allow line breaks', () => {
  const text: PropsSchema = {
    label: { type: 'string', maxLength: 64 },
    notes: { type: 'string', maxLength: 64, multiline: true },
  };
  const label = validateNewProps(text, { label: 'gift\u202etxt.exe' }, 'client');
  assert.equal(
    label.ok ? 'accepted' : label.reason,
    '"label" must not contain control or bidirectional-override characters',
  );
  assert.equal(validateNewProps(text, { label: 'two\nlines' }, 'client').ok, false);
  assert.equal(validateNewProps(text, { notes: 'two\nlines\tok' }, 'client').ok, true);
  assert.equal(validateNewProps(text, { notes: 'nul\u0000' }, 'client').ok, false);
});
