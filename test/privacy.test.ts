import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Playground, PlexusClient, type WebSocketConstructor } from '@plexus/client';
import type { PartyView } from '@plexus/protocol';
import { type Stack, startStack, waitFor } from '@plexus/testkit';
import { WebSocket as NodeWebSocket } from 'ws';
import { nextEvent, post } from './helpers.ts';

/** `ws` sockets the SDK opened, so a test can cut one the way a lost network does (no close frame). */
const sockets: NodeWebSocket[] = [];
class TrackedSocket extends NodeWebSocket {
  constructor(url: string) {
    super(url);
    sockets.push(this);
  }
}

const OPERATOR_KEY = 'privacy-test-operator-key';

/** Nothing of `secrets` appears in `props` (as JSON). */
function assertHides(props: unknown, secrets: string[]): void {
  const seen = JSON.stringify(props);
  for (const secret of secrets) assert.ok(!seen.includes(secret), `must not reveal ${secret}: ${seen}`);
}

// An incognito user's id, names and company never reach another user, on any path (docs/api.md,
// "Privacy"): resumes after turning incognito, parties, whispers.
describe('privacy of incognito users', () => {
  let stack: Stack;
  const open: Playground[] = [];
  before(async () => {
    // The balancer's auth cache (PLEXUS_AUTH_CACHE_TTL_MS, 2 s) may hand a resume the profile it
    // cached before profile.update; that is the balancer's concern (issue 10 item 4) and tested
    // there. Off here, every ticket carries the profile the backend holds at that moment, so these
    // tests pin only what the dedicated server does with a ticket's profile, without timing.
    // Two servers and frequent checkpoints: the last test restores an avatar on the other server.
    stack = await startStack({
      servers: 2,
      env: { PLEXUS_AUTH_CACHE_TTL_MS: '0', PLEXUS_CHECKPOINT_MS: '200', PLEXUS_OPERATOR_KEY: OPERATOR_KEY },
    });
  });
  after(async () => {
    await Promise.all(open.map((pg) => pg.leave()));
    await stack?.stop();
  });

  const newClient = () =>
    new PlexusClient({
      balancerUrl: stack.balancerUrl,
      backendUrl: stack.backendUrl,
      WebSocket: TrackedSocket as unknown as WebSocketConstructor,
    });

  async function joined(client: PlexusClient, playgroundId: string): Promise<Playground> {
    const pg = await client.join({ playgroundId });
    open.push(pg);
    return pg;
  }

  /**
   * Cuts `socket` (`pg`'s) without a close frame, waits until the SDK resumed, and returns the
   * socket it resumed on (the newest one: nothing else connects meanwhile).
   */
  async function dropAndResume(pg: Playground, socket: NodeWebSocket): Promise<NodeWebSocket> {
    const resumed = nextEvent(pg, 'reconnected', () => true, 15_000);
    socket.terminate();
    await resumed;
    return sockets.at(-1) as NodeWebSocket;
  }

  test('turning incognito reaches an avatar that resumes, and stays across further resumes', async () => {
    const ghost = newClient();
    const user = await ghost.loginAsGuest({ firstName: 'Grace', lastName: 'Hopper' });
    await ghost.updateProfile({ companyName: 'Navy', companyTitle: 'Rear Admiral' });
    const secrets = ['Grace', 'Hopper', 'Navy', 'Rear Admiral', user.id];
    const pgG = await joined(ghost, 'incognito-resume');
    const first = sockets.at(-1) as NodeWebSocket;
    const early = newClient();
    await early.loginAsGuest({ firstName: 'Early' });
    const pgE = await joined(early, 'incognito-resume');
    assert.equal(pgE.entities.get(pgG.selfId)?.props.displayName, 'Grace Hopper');

    await ghost.updateProfile({ privacyMode: 1 });
    // The observer already there sees the avatar's props replaced once the resume is in.
    const changed = nextEvent(
      pgE,
      'entityChanged',
      (e: { id: number; props: Record<string, unknown> }) =>
        e.id === pgG.selfId && e.props.anonymous === true,
      15_000,
    );
    const second = await dropAndResume(pgG, first);
    await changed;
    assertHides(pgE.entities.get(pgG.selfId)?.props, secrets);

    const watcher = newClient();
    await watcher.loginAsGuest({ firstName: 'Watcher' });
    const pgW = await joined(watcher, 'incognito-resume');
    const seen = pgW.entities.get(pgG.selfId)?.props;
    assert.ok(seen, 'the resumed avatar is there');
    assertHides(seen, secrets);
    assert.match(String(seen.displayName), /^Anonymous [0-9a-f]{4}$/);

    await dropAndResume(pgG, second);
    const later = newClient();
    await later.loginAsGuest({ firstName: 'Later' });
    const pgL = await joined(later, 'incognito-resume');
    const again = pgL.entities.get(pgG.selfId)?.props;
    assertHides(again, secrets);
    assert.equal(again?.displayName, seen.displayName, 'the anonymous name holds across resumes');
  });

  test('party.get shows an incognito member to the others without their user id, even as leader', async () => {
    const ghost = newClient();
    const ghostUser = await ghost.loginAsGuest({ firstName: 'Ghost', lastName: 'Leader' });
    await ghost.updateProfile({ privacyMode: 1 });
    const party = await ghost.createParty();
    const friend = newClient();
    const friendUser = await friend.loginAsGuest({ firstName: 'Friend' });
    const seenByJoin = await friend.joinParty(party.code);
    const seenByGet = (await friend.getParty()) as PartyView;
    for (const view of [seenByJoin, seenByGet]) {
      assertHides(view, [ghostUser.id, 'Ghost', 'Leader']);
      assert.equal(view.leaderId, null);
      assert.deepEqual(
        view.members.map((m) => [m.userId, m.displayName]),
        [
          [null, 'Anonymous'],
          [friendUser.id, 'Friend'],
        ],
      );
    }
    // The incognito member still sees themselves.
    const own = (await ghost.getParty()) as PartyView;
    assert.equal(own.leaderId, ghostUser.id);
    assert.equal(own.members[0]?.userId, ghostUser.id);
    await friend.leaveParty();
    await ghost.leaveParty();
  });

  test('a whisper to an online incognito user answers "stored", like one to an offline user', async () => {
    const ghost = newClient();
    const ghostUser = await ghost.loginAsGuest({ firstName: 'Hidden' });
    await ghost.updateProfile({ privacyMode: 1 });
    const pgG = await joined(ghost, 'whisper-room');
    const sender = newClient();
    await sender.loginAsGuest({ firstName: 'Sender' });
    const pgS = await joined(sender, 'whisper-room');
    const open2 = newClient();
    const openUser = await open2.loginAsGuest({ firstName: 'Visible' });
    await joined(open2, 'whisper-room');

    const whisper = async (toUserId: string) => {
      const reply = nextEvent(
        pgS,
        'message',
        (m: { type: string; payload: { toUserId?: string } }) =>
          m.type.startsWith('whisper.') && m.payload.toUserId === toUserId,
      );
      pgS.send('whisper', { toUserId, text: 'psst' });
      const [message] = (await reply) as [{ type: string; payload: { delivery?: string } }];
      return message;
    };
    const received = nextEvent(pgG, 'event', (e: { type: string }) => e.type === 'whisper');
    const toGhost = await whisper(ghostUser.id);
    assert.equal(toGhost.type, 'whisper.sent');
    assert.equal(toGhost.payload.delivery, 'stored', 'an incognito user never shows as online');
    await received; // still delivered live
    // A user who is not incognito shows as online, as documented.
    assert.equal((await whisper(openUser.id)).payload.delivery, 'live');
  });

  test('turning incognito reaches an avatar that a drain moves to another server', async () => {
    // The drained server exits; one more keeps two for the kill -9 test below.
    await stack.addServer();
    const ghost = newClient();
    const user = await ghost.loginAsGuest({ firstName: 'Hedy', lastName: 'Lamarr' });
    await ghost.updateProfile({ companyName: 'Frequency Hopping' });
    const secrets = ['Hedy', 'Lamarr', 'Frequency Hopping', user.id];
    const pgG = await joined(ghost, 'incognito-drain');
    // Incognito after the admission: only the relocation can bring the change to the new host.
    await ghost.updateProfile({ privacyMode: 1 });
    const drained = pgG.serverId;
    const redirected = nextEvent(pgG, 'reconnected', () => true, 30_000);
    const res = await post(
      `${stack.balancerUrl}/lb/api/v0/admin/servers/${drained}/drain`,
      {},
      { authorization: `Bearer ${OPERATOR_KEY}` },
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const [info] = (await redirected) as [{ reason: string }];
    assert.equal(info.reason, 'redirect');
    assert.notEqual(pgG.serverId, drained);

    const watcher = newClient();
    await watcher.loginAsGuest({ firstName: 'Watcher' });
    const pgW = await joined(watcher, 'incognito-drain');
    const seen = pgW.entities.get(pgG.selfId)?.props;
    assert.ok(seen, 'the moved avatar is there');
    assertHides(seen, secrets);
    assert.match(String(seen.displayName), /^Anonymous [0-9a-f]{4}$/);
  });

  // Runs last: it kills the server hosting its playground.
  test('turning incognito reaches an avatar restored from a checkpoint on another server (kill -9)', async () => {
    const ghost = newClient();
    const user = await ghost.loginAsGuest({ firstName: 'Ada', lastName: 'Byron' });
    await ghost.updateProfile({ companyName: 'Analytical Engines' });
    const pgG = await joined(ghost, 'incognito-failover');
    // The checkpoint that will be restored holds the avatar with the old, named props.
    await waitFor(
      async () => {
        const res = await post(
          `${stack.backendUrl}/api/v0/operatorRpc/checkpoints.get`,
          { playgroundId: 'incognito-failover' },
          { authorization: `Bearer ${OPERATOR_KEY}` },
        );
        const avatars: { entityId: number; props?: { displayName?: string } }[] =
          res.body.data?.checkpoint?.state?.avatars ?? [];
        return avatars.some((a) => a.entityId === pgG.selfId);
      },
      { timeoutMs: 10_000, what: 'a checkpoint holding the avatar' },
    );
    await ghost.updateProfile({ privacyMode: 1 });
    const killed = pgG.serverId;
    const resumed = nextEvent(pgG, 'reconnected', () => true, 30_000);
    await stack.server(killed)?.kill();
    await resumed;
    assert.notEqual(pgG.serverId, killed, 'restored on the other server');

    const watcher = newClient();
    await watcher.loginAsGuest({ firstName: 'Watcher' });
    const pgW = await joined(watcher, 'incognito-failover');
    const seen = pgW.entities.get(pgG.selfId)?.props;
    assert.ok(seen, 'the restored avatar is there');
    assertHides(seen, ['Ada', 'Byron', 'Analytical Engines', user.id]);
    assert.match(String(seen.displayName), /^Anonymous [0-9a-f]{4}$/);
  });
});
