import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from './password.ts';
import { bearerToken, hashSessionId, newSessionId, secretsEqual } from './tokens.ts';

test('scrypt hashes verify only the right password and are salted', async () => {
  const a = await hashPassword('pässword one');
  const b = await hashPassword('pässword one');
  assert.notEqual(a, b);
  assert.equal(await verifyPassword('pässword one', a), true);
  assert.equal(await verifyPassword('pässword one', b), true);
  assert.equal(await verifyPassword('pässword two', a), false);
  assert.equal(await verifyPassword('pässword one', 'garbage'), false);
  assert.equal(await verifyPassword('pässword one', 'scrypt$x$8$1$c2FsdA$aGFzaA'), false);
});

test('session ids are 256 random bits; hashes are SHA-256 hex', () => {
  const ids = new Set(Array.from({ length: 100 }, newSessionId));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.equal(Buffer.from(id, 'base64url').length, 32);
  assert.match(hashSessionId('x'), /^[0-9a-f]{64}$/);
});

test('bearer parsing and constant-time secret comparison', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer   abc '), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer'), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(secretsEqual('same', 'same'), true);
  assert.equal(secretsEqual('same', 'same-but-longer'), false);
});
