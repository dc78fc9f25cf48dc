import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TICKET_ISSUER, type UserSimple } from '@plexus/protocol';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { displayProfileOf, newTicketId, TicketSigner } from './tickets.ts';

const ada: UserSimple = {
  id: 'user-1',
  firstName: 'Ada',
  lastName: 'Lovelace',
  privacyMode: 1,
  avatar: 'https://example.test/a.png',
  avatar3D: {
    assetId: 'a1',
    assetSkins: { body: 'blue' },
    avatarUrl: 'https://example.test/a.glb',
    avatarUserId: 'x',
  },
  companyName: 'Analytical Engines',
  companyTitle: 'Programmer',
};

test('a signed ticket verifies with the exported JWK and carries exactly the protocol claims', async () => {
  const nowMs = Date.now();
  const signer = await TicketSigner.create({ ttlMs: 30_000, now: () => nowMs });
  assert.deepEqual(Object.keys(signer.publicJwk).sort(), ['crv', 'kty', 'x']);
  assert.equal(signer.publicJwk.kty, 'OKP');
  assert.equal(signer.publicJwk.crv, 'Ed25519');
  const jti = newTicketId();
  const signed = await signer.sign({ serverId: 'ds-1', playgroundId: 'hall', user: ada, jti });
  assert.equal(decodeProtectedHeader(signed.ticket).alg, 'EdDSA');

  const key = await importJWK(signer.publicJwk, 'EdDSA');
  const { payload } = await jwtVerify(signed.ticket, key, {
    issuer: TICKET_ISSUER,
    audience: 'ds-1',
    currentDate: new Date(nowMs),
  });
  const iat = Math.floor(nowMs / 1000);
  const exp = Math.floor((nowMs + 30_000) / 1000);
  assert.deepEqual(payload, {
    iss: TICKET_ISSUER,
    aud: 'ds-1',
    sub: 'user-1',
    jti,
    iat,
    exp,
    pg: 'hall',
    prof: {
      firstName: 'Ada',
      lastName: 'Lovelace',
      privacyMode: 1,
      avatar: 'https://example.test/a.png',
      avatar3D: ada.avatar3D,
      companyName: 'Analytical Engines',
      companyTitle: 'Programmer',
    },
  });
  assert.deepEqual(signed.claims, payload);
  assert.equal(signed.expiresAtMs, exp * 1000);
  assert.ok(exp - iat <= 30);
});

test('a tampered ticket fails verification', async () => {
  const signer = await TicketSigner.create({ ttlMs: 30_000 });
  const { ticket } = await signer.sign({
    serverId: 'ds-1',
    playgroundId: 'hall',
    user: ada,
    jti: newTicketId(),
  });
  const [header, payload, signature] = ticket.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.pg = 'vip-room';
  const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  const key = await importJWK(signer.publicJwk, 'EdDSA');
  await assert.rejects(jwtVerify(forged, key), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  // Another balancer's key does not verify it either.
  const other = await TicketSigner.create({ ttlMs: 30_000 });
  await assert.rejects(jwtVerify(ticket, await importJWK(other.publicJwk, 'EdDSA')));
});

test('an expired ticket is refused by verification', async () => {
  const issuedAt = Date.now() - 60_000;
  const signer = await TicketSigner.create({ ttlMs: 30_000, now: () => issuedAt });
  const { ticket } = await signer.sign({
    serverId: 'ds-1',
    playgroundId: 'hall',
    user: ada,
    jti: newTicketId(),
  });
  await assert.rejects(jwtVerify(ticket, await importJWK(signer.publicJwk, 'EdDSA')), {
    code: 'ERR_JWT_EXPIRED',
  });
});

test('the display profile omits avatar3D when the user has none, and ticket ids are 128-bit', () => {
  const { avatar3D: _, ...plain } = ada;
  assert.equal('avatar3D' in displayProfileOf(plain), false);
  const jti = newTicketId();
  assert.equal(Buffer.from(jti, 'base64url').length, 16);
  assert.notEqual(jti, newTicketId());
});

test('a relocation ticket carries the given profile and the resume token as `rt`', async () => {
  const signer = await TicketSigner.create({ ttlMs: 30_000 });
  const profile = displayProfileOf(ada);
  const { ticket, claims } = await signer.sign({
    serverId: 'ds-2',
    playgroundId: 'hall',
    userId: 'u-ada',
    profile,
    jti: newTicketId(),
    resumeToken: 'resume.token',
  });
  const { payload } = await jwtVerify(ticket, await importJWK(signer.publicJwk, 'EdDSA'), {
    audience: 'ds-2',
  });
  assert.equal(payload.sub, 'u-ada');
  assert.equal(payload.rt, 'resume.token');
  assert.deepEqual(payload.prof, profile);
  assert.equal(claims.rt, 'resume.token');
});
