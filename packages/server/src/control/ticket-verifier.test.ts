import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TICKET_ALGORITHM, TICKET_ISSUER } from '@plexus/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TicketVerifier, ticketUsableUntilMs } from './ticket-verifier.ts';

const profile = {
  firstName: 'Ada',
  lastName: '',
  privacyMode: 0,
  avatar: '',
  companyName: '',
  companyTitle: '',
};

test('a used ticket id is remembered for as long as the ticket still verifies (clock tolerance included)', async () => {
  const { privateKey, publicKey } = await generateKeyPair(TICKET_ALGORITHM, { crv: 'Ed25519' });
  const iat = 1_900_000_000;
  const exp = iat + 1;
  const ticket = await new SignJWT({ pg: 'pg-1', prof: profile })
    .setProtectedHeader({ alg: TICKET_ALGORITHM })
    .setIssuer(TICKET_ISSUER)
    .setAudience('ds-1')
    .setSubject('user-1')
    .setJti('jti-0000000000000000000001')
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(privateKey);
  let now = 0;
  const verifier = new TicketVerifier('ds-1', () => now);
  await verifier.setKey(await exportJWK(publicKey));

  // Past `exp` but within the tolerance the ticket still verifies, so the replay cache must still
  // hold its id then; once the cache would forget it, the ticket no longer verifies.
  now = exp * 1000 + 1_500;
  assert.equal((await verifier.verify(ticket)).ok, true);
  assert.ok(ticketUsableUntilMs(exp) > now);
  now = ticketUsableUntilMs(exp) + 1_000;
  assert.equal((await verifier.verify(ticket)).ok, false);
});
