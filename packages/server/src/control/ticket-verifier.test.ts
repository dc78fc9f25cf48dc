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

test('only a ticket signed by a known balancer, for this server, unexpired and complete is admitted', async () => {
  const balancerA = await generateKeyPair(TICKET_ALGORITHM, { crv: 'Ed25519' });
  const balancerB = await generateKeyPair(TICKET_ALGORITHM, { crv: 'Ed25519' });
  const stranger = await generateKeyPair(TICKET_ALGORITHM, { crv: 'Ed25519' });
  const iat = 1_900_000_000;
  const now = iat * 1000;
  const verifier = new TicketVerifier('ds-1', () => now);
  assert.deepEqual(await verifier.verify('a.b.c'), { ok: false, error: 'PROTOCOL_NOT_READY' });
  await verifier.setKey(await exportJWK(balancerA.publicKey), 'lb-a');
  await verifier.setKey(await exportJWK(balancerB.publicKey), 'lb-b');
  const sign = (
    key: CryptoKey,
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = { alg: TICKET_ALGORITHM, typ: 'JWT' },
  ) =>
    new SignJWT({
      iss: TICKET_ISSUER,
      aud: 'ds-1',
      sub: 'user-1',
      jti: 'jti-0000000000000000000002',
      iat,
      exp: iat + 30,
      pg: 'pg-1',
      prof: profile,
      ...claims,
    })
      .setProtectedHeader(header as { alg: string })
      .sign(key);
  const error = async (ticket: string) => {
    const verdict = await verifier.verify(ticket);
    return verdict.ok ? 'ok' : verdict.error;
  };

  const good = await verifier.verify(await sign(balancerB.privateKey));
  assert.ok(good.ok);
  assert.equal(good.claims.sub, 'user-1');
  assert.deepEqual(good.claims.prof, profile);
  assert.equal(await error(await sign(balancerA.privateKey)), 'ok');

  assert.equal(
    await error(await sign(balancerA.privateKey, { aud: 'ds-2' })),
    'PROTOCOL_TICKET_WRONG_TARGET',
  );
  // "Another server" is believed only of a genuine ticket.
  assert.equal(await error(await sign(stranger.privateKey, { aud: 'ds-2' })), 'PROTOCOL_TICKET_INVALID');
  assert.equal(await error(await sign(stranger.privateKey)), 'PROTOCOL_TICKET_INVALID');
  const [h, p, s] = (await sign(balancerA.privateKey)).split('.');
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), sub: 'admin' }),
  );
  assert.equal(await error(`${h}.${forged.toString('base64url')}.${s}`), 'PROTOCOL_TICKET_INVALID');
  const unsigned = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  assert.equal(await error(`${unsigned}.${p}.`), 'PROTOCOL_TICKET_INVALID');
  assert.equal(await error(`${unsigned}.${p}.${s}`), 'PROTOCOL_TICKET_INVALID');
  assert.equal(
    await error(await sign(balancerA.privateKey, {}, { alg: TICKET_ALGORITHM, crit: ['b64'], b64: true })),
    'PROTOCOL_TICKET_INVALID',
  );
  for (const bad of ['', 'garbage', `${h}.${p}`, `${h}.${p}.${s}.x`, `${h}!.${p}.${s}`]) {
    assert.equal(await error(bad), 'PROTOCOL_TICKET_INVALID', bad);
  }

  assert.equal(await error(await sign(balancerA.privateKey, { iss: 'someone' })), 'PROTOCOL_TICKET_INVALID');
  assert.equal(await error(await sign(balancerA.privateKey, { exp: iat - 5 })), 'PROTOCOL_TICKET_INVALID');
  assert.equal(await error(await sign(balancerA.privateKey, { nbf: iat + 60 })), 'PROTOCOL_TICKET_INVALID');
  assert.equal(
    await error(await sign(balancerA.privateKey, { exp: String(iat + 30) })),
    'PROTOCOL_TICKET_INVALID',
  );
  assert.equal(await error(await sign(balancerA.privateKey, { jti: undefined })), 'PROTOCOL_TICKET_INVALID');
  assert.equal(await error(await sign(balancerA.privateKey, { pg: '../x' })), 'PROTOCOL_TICKET_INVALID');
});
