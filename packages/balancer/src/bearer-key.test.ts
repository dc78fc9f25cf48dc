import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerKeyCheck } from './bearer-key.ts';

test('a bearer key check accepts exactly its secret in an Authorization: Bearer header', () => {
  const check = bearerKeyCheck('s3cret');
  assert.equal(check('Bearer s3cret'), true);
  assert.equal(check('bearer   s3cret '), true);
  assert.equal(check('Bearer s3cre'), false);
  assert.equal(check('Bearer s3cret2'), false);
  assert.equal(check('Basic s3cret'), false);
  assert.equal(check('Bearer '), false);
  assert.equal(check(undefined), false);
});
