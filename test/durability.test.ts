import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ComponentProcess, startComponent } from '@plexus/testkit';
import { createEngineTarget, ENGINES } from '../packages/backend/src/storage/engines.test-support.ts';
import { post } from './helpers.ts';

// Nothing acknowledged is lost: a write the backend answered 200 to is still there after the
// process is killed with SIGKILL (no shutdown hook runs) and started again on the same database.

const PARTNER_KEY = 'durability-partner-key';

for (const engine of ENGINES) {
  test(`an acknowledged registration and profile update survive kill -9 of the backend [${engine}]`, async (t) => {
    const target = await createEngineTarget(engine, t);
    if (!target) return;
    const env = {
      ...target.env,
      PLEXUS_BACKEND_PORT: '0',
      PLEXUS_PARTNER_KEY: PARTNER_KEY,
      NODE_ENV: 'test',
    };
    const running: ComponentProcess[] = [];
    t.after(() => Promise.all(running.map((p) => p.stop())));
    const start = async () => {
      const backend = await startComponent('backend', 'backend', env);
      running.push(backend);
      return backend;
    };

    const first = await start();
    const migrated = first.logs.find((l) => l.msg === 'migrations applied');
    assert.equal(migrated?.engine, engine, 'the backend runs on the engine under test');
    const registered = await post(`${first.url}/api/v0/rpc/auth.register`, {
      email: 'durable@example.com',
      password: 'correct horse battery',
      firstName: 'Dura',
    });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    const sessionId = registered.body.data.sessionId as string;
    const auth = { authorization: `Bearer ${sessionId}` };
    const updated = await post(
      `${first.url}/api/v0/rpc/profile.update`,
      { lastName: 'Ble', companyName: 'Acked Ltd', privacyMode: 1 },
      auth,
    );
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    // SIGKILL as soon as the acknowledgement arrived: no graceful close, no flush on exit.
    const killed = first.kill();
    assert.equal(await killed, null);
    assert.equal(first.proc.signalCode, 'SIGKILL');

    const second = await start();
    assert.notEqual(second.proc.pid, first.proc.pid);
    // The session still authenticates, for the client and for partners, and the profile is the updated one.
    const profile = await post(`${second.url}/api/v0/rpc/profile.get`, {}, auth);
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
    assert.equal(profile.body.data.user.firstName, 'Dura');
    assert.equal(profile.body.data.user.lastName, 'Ble');
    assert.equal(profile.body.data.user.companyName, 'Acked Ltd');
    assert.equal(profile.body.data.user.privacyMode, 1);
    const check = await post(
      `${second.url}/api/v0/partnerRpc/authCheck.getUserBySessionId`,
      { sessionId },
      { authorization: `Bearer ${PARTNER_KEY}` },
    );
    assert.equal(check.status, 200, JSON.stringify(check.body));
    assert.equal(check.body.data.user.id, registered.body.data.user.id);
    // And the user's password still logs in.
    const login = await post(`${second.url}/api/v0/rpc/auth.login`, {
      email: 'durable@example.com',
      password: 'correct horse battery',
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
  });
}
