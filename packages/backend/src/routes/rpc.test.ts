import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UserSimple } from '@plexus/protocol';
import {
  code,
  failure,
  post,
  rpcUrl,
  startTestBackend,
  type TestBackend,
  tempRoot,
} from '../test-support.ts';

interface Grant {
  sessionId: string;
  expiresAt: string;
  user: UserSimple;
}

const root = tempRoot();
let backend: TestBackend;
before(async () => {
  backend = await startTestBackend(root.sub('rpc'));
});
after(async () => {
  await backend.close();
  root.remove();
});

let emailSeq = 0;
const freshEmail = () => `User${++emailSeq}@Example.COM`;

async function register(email = freshEmail(), password = 'correct horse battery') {
  const res = await post<Grant>(backend.app, rpcUrl('auth.register'), {
    email,
    password,
    firstName: 'Ada',
    lastName: 'Lovelace',
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as Grant;
}

describe('auth', () => {
  test('register returns a session, its expiry and the User Simple model', async () => {
    const grant = await register();
    assert.match(grant.sessionId, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(grant.expiresAt, new Date(backend.clock.now + 86_400_000).toISOString());
    assert.deepEqual(Object.keys(grant.user).sort(), [
      'avatar',
      'companyName',
      'companyTitle',
      'firstName',
      'id',
      'lastName',
      'privacyMode',
    ]);
    assert.equal(grant.user.firstName, 'Ada');
    assert.equal(grant.user.lastName, 'Lovelace');
    assert.equal(grant.user.privacyMode, 0);
  });

  test('register defaults lastName to empty', async () => {
    const res = await post<Grant>(backend.app, rpcUrl('auth.register'), {
      email: freshEmail(),
      password: 'password1',
      firstName: 'Solo',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.data?.user.lastName, '');
  });

  test('a duplicate email (any case) is AUTH_EMAIL_TAKEN 409', async () => {
    const email = freshEmail();
    await register(email);
    const res = await post(backend.app, rpcUrl('auth.register'), {
      email: email.toUpperCase(),
      password: 'another password',
      firstName: 'Eve',
    });
    assert.deepEqual(failure(res), code('AUTH_EMAIL_TAKEN'));
    assert.equal(res.body.data, null);
    assert.equal(res.body.error.status, true);
  });

  test('login with the right password opens a new session for the same user', async () => {
    const email = freshEmail();
    const first = await register(email, 'open sesame!');
    const res = await post<Grant>(backend.app, rpcUrl('auth.login'), {
      email: email.toLowerCase(),
      password: 'open sesame!',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.error, { status: false, code: 0, message: '' });
    assert.equal(res.body.data?.user.id, first.user.id);
    assert.notEqual(res.body.data?.sessionId, first.sessionId);
  });

  test('wrong password and unknown email get the same AUTH_INVALID_CREDENTIALS answer', async () => {
    const email = freshEmail();
    await register(email, 'open sesame!');
    const wrongPassword = await post(backend.app, rpcUrl('auth.login'), { email, password: 'open sesame?' });
    const unknownEmail = await post(backend.app, rpcUrl('auth.login'), {
      email: 'nobody@example.com',
      password: 'open sesame!',
    });
    assert.deepEqual(failure(wrongPassword), code('AUTH_INVALID_CREDENTIALS'));
    assert.deepEqual(wrongPassword.body, unknownEmail.body);
    assert.equal(wrongPassword.status, unknownEmail.status);
  });

  test('guest login creates a user without email and a working session', async () => {
    const res = await post<Grant>(backend.app, rpcUrl('auth.guest'), { firstName: 'Grace' });
    assert.equal(res.status, 200);
    const grant = res.body.data as Grant;
    assert.equal(grant.user.firstName, 'Grace');
    assert.equal(grant.user.lastName, '');
    const stored = await backend.repo.findUserById(grant.user.id);
    assert.equal(stored?.isGuest, true);
    assert.equal(stored?.email, null);
    const profile = await post<{ user: UserSimple }>(backend.app, rpcUrl('profile.get'), {}, grant.sessionId);
    assert.equal(profile.status, 200);
    assert.deepEqual(profile.body.data?.user, grant.user);
  });

  test('logout revokes the session', async () => {
    const grant = await register();
    const res = await post(backend.app, rpcUrl('auth.logout'), {}, grant.sessionId);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, { loggedOut: true });
    const again = await post(backend.app, rpcUrl('profile.get'), {}, grant.sessionId);
    assert.deepEqual(failure(again), code('AUTH_INVALID_SESSION'));
    const twice = await post(backend.app, rpcUrl('auth.logout'), {}, grant.sessionId);
    assert.deepEqual(failure(twice), code('AUTH_INVALID_SESSION'));
  });

  test('logout without a body is accepted', async () => {
    const grant = await register();
    const res = await backend.app.inject({
      method: 'POST',
      url: rpcUrl('auth.logout'),
      headers: { authorization: `Bearer ${grant.sessionId}` },
    });
    assert.equal(res.statusCode, 200);
  });

  test('a session expires after the TTL', async () => {
    const grant = await register();
    const start = backend.clock.now;
    try {
      backend.clock.now = start + 86_400_000 - 1;
      assert.equal((await post(backend.app, rpcUrl('profile.get'), {}, grant.sessionId)).status, 200);
      backend.clock.now = start + 86_400_000;
      const res = await post(backend.app, rpcUrl('profile.get'), {}, grant.sessionId);
      assert.deepEqual(failure(res), code('AUTH_INVALID_SESSION'));
    } finally {
      backend.clock.now = start;
    }
  });

  test('missing or malformed Bearer is AUTH_SESSION_REQUIRED, an unknown one AUTH_INVALID_SESSION', async () => {
    const none = await post(backend.app, rpcUrl('profile.get'), {});
    assert.deepEqual(failure(none), code('AUTH_SESSION_REQUIRED'));
    const basic = await post(backend.app, rpcUrl('profile.get'), {}, undefined, {
      authorization: 'Basic abc',
    });
    assert.deepEqual(failure(basic), code('AUTH_SESSION_REQUIRED'));
    const unknown = await post(backend.app, rpcUrl('profile.get'), {}, 'not-a-session');
    assert.deepEqual(failure(unknown), code('AUTH_INVALID_SESSION'));
    const logout = await post(backend.app, rpcUrl('auth.logout'), {});
    assert.deepEqual(failure(logout), code('AUTH_SESSION_REQUIRED'));
  });
});

describe('profile', () => {
  test('update sets privacyMode, company and avatar fields; get returns them', async () => {
    const { sessionId } = await register();
    const res = await post<{ user: UserSimple }>(
      backend.app,
      rpcUrl('profile.update'),
      {
        privacyMode: 1,
        companyName: 'Analytical Engines',
        companyTitle: 'Programmer',
        avatar: 'https://cdn.example.com/ada.png',
      },
      sessionId,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const got = await post<{ user: UserSimple }>(backend.app, rpcUrl('profile.get'), {}, sessionId);
    assert.deepEqual(got.body.data?.user, res.body.data?.user);
    const user = got.body.data?.user as UserSimple;
    assert.equal(user.privacyMode, 1);
    assert.equal(user.companyName, 'Analytical Engines');
    assert.equal(user.companyTitle, 'Programmer');
    assert.equal(user.avatar, 'https://cdn.example.com/ada.png');
    assert.equal(user.firstName, 'Ada');
    assert.equal(user.avatar3D, undefined);

    const back = await post<{ user: UserSimple }>(
      backend.app,
      rpcUrl('profile.update'),
      { privacyMode: 0, avatar: '', firstName: 'Augusta' },
      sessionId,
    );
    assert.equal(back.body.data?.user.privacyMode, 0);
    assert.equal(back.body.data?.user.avatar, '');
    assert.equal(back.body.data?.user.firstName, 'Augusta');
    assert.equal(back.body.data?.user.companyName, 'Analytical Engines');
  });

  test('avatar3D is set, returned in full, then cleared with null (omitted again)', async () => {
    const { sessionId } = await register();
    const avatar3D = {
      assetId: 'robot-01',
      assetSkins: { body: 'chrome', head: 'matte' },
      avatarUrl: 'https://cdn.example.com/robot.glb',
      avatarUserId: 'rpm-123',
    };
    const set = await post<{ user: UserSimple }>(
      backend.app,
      rpcUrl('profile.update'),
      { avatar3D },
      sessionId,
    );
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.data?.user.avatar3D, avatar3D);
    const got = await post<{ user: UserSimple }>(backend.app, rpcUrl('profile.get'), {}, sessionId);
    assert.deepEqual(got.body.data?.user.avatar3D, avatar3D);

    const cleared = await post<{ user: UserSimple }>(
      backend.app,
      rpcUrl('profile.update'),
      { avatar3D: null },
      sessionId,
    );
    assert.equal(cleared.status, 200);
    assert.equal('avatar3D' in (cleared.body.data?.user ?? {}), false);
    const gotAgain = await post<{ user: UserSimple }>(backend.app, rpcUrl('profile.get'), {}, sessionId);
    assert.equal('avatar3D' in (gotAgain.body.data?.user ?? {}), false);
  });

  test('an all-empty avatar3D counts as none', async () => {
    const { sessionId } = await register();
    const res = await post<{ user: UserSimple }>(
      backend.app,
      rpcUrl('profile.update'),
      { avatar3D: { assetId: '', assetSkins: {}, avatarUrl: '', avatarUserId: '' } },
      sessionId,
    );
    assert.equal(res.status, 200);
    assert.equal('avatar3D' in (res.body.data?.user ?? {}), false);
  });

  test('bad profile updates are COMMON_BAD_REQUEST and change nothing', async () => {
    const { sessionId, user } = await register();
    const bad: unknown[] = [
      { email: 'x@example.com' },
      { privacyMode: 2 },
      { privacyMode: '1' },
      { firstName: '' },
      { firstName: 'x'.repeat(65) },
      { avatar: 'javascript:alert(1)' },
      { avatar: `https://example.com/${'a'.repeat(2048)}` },
      { companyName: 'c'.repeat(129) },
      { avatar3D: { assetId: 'a', extra: 1 } },
      { avatar3D: { assetSkins: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) } },
      { avatar3D: { assetSkins: { body: 3 } } },
      [],
    ];
    for (const body of bad) {
      const res = await post(backend.app, rpcUrl('profile.update'), body, sessionId);
      assert.deepEqual(failure(res), code('COMMON_BAD_REQUEST'), JSON.stringify(body));
    }
    const got = await post<{ user: UserSimple }>(backend.app, rpcUrl('profile.get'), {}, sessionId);
    assert.deepEqual(got.body.data?.user, user);
  });
});

describe('bad input', () => {
  test('malformed JSON is COMMON_MALFORMED_JSON', async () => {
    const res = await post(backend.app, rpcUrl('auth.guest'), '{"firstName": ');
    assert.deepEqual(failure(res), code('COMMON_MALFORMED_JSON'));
    assert.equal(res.body.data, null);
  });

  test('missing fields, wrong types and unknown keys are COMMON_BAD_REQUEST naming the field', async () => {
    const cases: [string, unknown, string][] = [
      ['auth.register', { email: 'a@example.com', firstName: 'A' }, 'password'],
      ['auth.register', { email: 'not-an-email', password: 'password1', firstName: 'A' }, 'email'],
      ['auth.register', { email: `${'a'.repeat(250)}@x.io`, password: 'password1', firstName: 'A' }, 'email'],
      ['auth.register', { email: 'a@example.com', password: 'short', firstName: 'A' }, 'password'],
      ['auth.register', { email: 'a@example.com', password: 'x'.repeat(257), firstName: 'A' }, 'password'],
      ['auth.register', { email: 'a@example.com', password: 'password1', firstName: 7 }, 'firstName'],
      [
        'auth.register',
        { email: 'a@example.com', password: 'password1', firstName: 'A', admin: true },
        'admin',
      ],
      ['auth.login', { email: 'a@example.com' }, 'password'],
      ['auth.login', { email: 42, password: 'password1' }, 'email'],
      ['auth.guest', {}, 'firstName'],
      ['auth.guest', { firstName: '   ' }, 'firstName'],
      ['auth.guest', { firstName: 'A', lastName: 'x'.repeat(65) }, 'lastName'],
      ['auth.guest', { firstName: 'A', role: 'admin' }, 'role'],
      ['auth.guest', [1, 2], 'body'],
      ['auth.guest', 'null', 'firstName'], // kit's parseInput reads a null body as {}
    ];
    for (const [method, body, field] of cases) {
      const res = await post(backend.app, rpcUrl(method), body);
      assert.deepEqual(failure(res), code('COMMON_BAD_REQUEST'), `${method} ${JSON.stringify(body)}`);
      assert.match(res.body.error.message, new RegExp(field), res.body.error.message);
    }
  });

  test('an auth.* body over 16 KiB is COMMON_PAYLOAD_TOO_LARGE; 16 KiB is not the limit elsewhere', async () => {
    const big = JSON.stringify({ firstName: 'A', lastName: 'x'.repeat(17 * 1024) });
    for (const method of ['auth.register', 'auth.login', 'auth.guest', 'auth.logout']) {
      const res = await post(backend.app, rpcUrl(method), big);
      assert.deepEqual(failure(res), code('COMMON_PAYLOAD_TOO_LARGE'), method);
    }
    const { sessionId } = await register();
    const midsize = await post(
      backend.app,
      rpcUrl('profile.update'),
      { companyName: 'A', pad: 'x'.repeat(20 * 1024) },
      sessionId,
    );
    // Read in full (not refused for size), then refused for the unknown key.
    assert.deepEqual(failure(midsize), code('COMMON_BAD_REQUEST'));
    const huge = await post(backend.app, rpcUrl('profile.update'), { pad: 'x'.repeat(65 * 1024) }, sessionId);
    assert.deepEqual(failure(huge), code('COMMON_PAYLOAD_TOO_LARGE'));
  });

  test('wrong content type and unknown RPC are enveloped', async () => {
    const text = await post(backend.app, rpcUrl('auth.guest'), 'firstName=A', undefined, {
      'content-type': 'text/plain',
    });
    assert.deepEqual(failure(text), code('COMMON_UNSUPPORTED_MEDIA_TYPE'));
    const unknown = await post(backend.app, rpcUrl('auth.sudo'), {});
    assert.deepEqual(failure(unknown), code('COMMON_NOT_FOUND'));
  });
});

test('sessions are counted in /metrics', async () => {
  await post(backend.app, rpcUrl('auth.guest'), { firstName: 'Metric' });
  const res = await backend.app.inject({ method: 'GET', url: '/metrics' });
  assert.match(res.body, /plexus_backend_sessions_created_total\{kind="guest",component="backend"\} [1-9]/);
});
