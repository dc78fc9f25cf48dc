import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from './emitter.ts';

type Events = { hello: [name: string, n: number]; bye: [] };

test('emitter calls listeners in order with the arguments, and on() returns an unsubscribe', () => {
  const emitter = new Emitter<Events>();
  const seen: string[] = [];
  const off = emitter.on('hello', (name, n) => seen.push(`a:${name}:${n}`));
  emitter.on('hello', (name) => seen.push(`b:${name}`));
  emitter.emit('hello', 'ada', 1);
  off();
  emitter.emit('hello', 'bob', 2);
  assert.deepEqual(seen, ['a:ada:1', 'b:ada', 'b:bob']);
  assert.equal(emitter.listenerCount('hello'), 1);
});

test('a listener added or removed while an event is emitted does not change that emit', () => {
  const emitter = new Emitter<Events>();
  const seen: string[] = [];
  const late = (): void => {
    seen.push('late');
  };
  const second = (): void => {
    seen.push('second');
  };
  emitter.on('bye', () => {
    seen.push('first');
    emitter.on('bye', late);
    emitter.off('bye', second);
  });
  emitter.on('bye', second);
  emitter.on('bye', second); // twice is once
  emitter.emit('bye');
  assert.deepEqual(seen, ['first', 'second']);
  emitter.emit('bye');
  assert.deepEqual(seen, ['first', 'second', 'first', 'late']);
  assert.equal(emitter.listenerCount('bye'), 2);
});

test('emitter off() removes a listener and once() fires a single time', () => {
  const emitter = new Emitter<Events>();
  let count = 0;
  const listener = (): void => {
    count++;
  };
  emitter.on('bye', listener);
  emitter.off('bye', listener);
  emitter.once('bye', listener);
  emitter.emit('bye');
  emitter.emit('bye');
  assert.equal(count, 1);
  assert.equal(emitter.listenerCount('bye'), 0);
});

test('a throwing listener does not stop the others nor the emitter, and is reported asynchronously', async () => {
  const emitter = new Emitter<Events>();
  const boom = new Error('boom');
  let reached = false;
  emitter.on('bye', () => {
    throw boom;
  });
  emitter.on('bye', () => {
    reached = true;
  });
  const reported = new Promise<unknown>((resolve) => {
    const original = (globalThis as { reportError?: unknown }).reportError;
    (globalThis as { reportError?: unknown }).reportError = (err: unknown) => {
      (globalThis as { reportError?: unknown }).reportError = original;
      resolve(err);
    };
  });
  assert.doesNotThrow(() => emitter.emit('bye'));
  assert.equal(reached, true);
  assert.equal(await reported, boom);
});
