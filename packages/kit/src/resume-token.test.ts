import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signResumeToken, verifyResumeToken } from './resume-token.ts';

const secret = 'a-cluster-secret-of-some-length';
const claims = { userId: 'u1', playgroundId: 'pg-1', entityId: 7, expiresAt: 2_000 };

test('a resume token verifies with the same secret before it expires', () => {
  const token = signResumeToken(secret, claims);
  assert.deepEqual(verifyResumeToken(secret, token, 1_000), claims);
});

test('a resume token is refused when expired, tampered with, or signed by another secret', () => {
  const token = signResumeToken(secret, claims);
  assert.equal(verifyResumeToken(secret, token, 2_000), undefined);
  assert.equal(verifyResumeToken('another-secret-entirely', token, 1_000), undefined);
  const [body, mac] = token.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ ...claims, userId: 'u2' })).toString('base64url');
  assert.equal(verifyResumeToken(secret, `${forged}.${mac}`, 1_000), undefined);
  assert.equal(verifyResumeToken(secret, body, 1_000), undefined);
  assert.equal(verifyResumeToken(secret, 'x'.repeat(5_000), 1_000), undefined);
});
