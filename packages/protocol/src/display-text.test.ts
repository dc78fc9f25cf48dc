import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasUnsafeDisplayChars, stripUnsafeDisplayChars } from './display-text.ts';

test('control and bidi-override characters are unsafe in display text; other scripts and emoji are not', () => {
  for (const bad of [
    '\u0000',
    '\u0007',
    '\n',
    '\u001b[31m',
    '\u007f',
    '\u0085',
    '\u202a',
    '\u202e',
    '\u2066',
    '\u2069',
  ]) {
    assert.equal(hasUnsafeDisplayChars(`a${bad}b`), true, JSON.stringify(bad));
  }
  for (const good of ['Zoë', '東京', 'مرحبا', '🚀', 'a b', '\u200d', '\u202f', '\u2070']) {
    assert.equal(hasUnsafeDisplayChars(good), false, JSON.stringify(good));
  }
});

test('multi-line text may hold tabs and line breaks, nothing else', () => {
  assert.equal(hasUnsafeDisplayChars('one\r\n\ttwo', true), false);
  assert.equal(hasUnsafeDisplayChars('one\u0000two', true), true);
  assert.equal(hasUnsafeDisplayChars('one\u202etwo', true), true);
});

test('strip removes exactly the unsafe characters', () => {
  assert.equal(stripUnsafeDisplayChars('\u202eGr\u0000ace\n\u2066'), 'Grace');
});
