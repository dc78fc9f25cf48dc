import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlexusError } from '../errors.ts';
import {
  attemptVerdict,
  backoffDelayMs,
  DEFAULT_RECONNECT,
  isResumableClose,
  nextAttemptDelayMs,
  reconnectPolicy,
} from './reconnect.ts';

const policy = { ...DEFAULT_RECONNECT };

test('backoff: full jitter under a ceiling that doubles from 100 ms and is capped at 2 s', () => {
  const top = () => 0.999_999;
  // The ceiling of attempt n is min(2000, 100 × 2^(n−1)): the largest delay is just below it.
  const ceilings = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
  ceilings.forEach((ceiling, i) => {
    assert.equal(backoffDelayMs(i + 1, policy, top), ceiling - 1, `attempt ${i + 1}`);
    assert.equal(
      backoffDelayMs(i + 1, policy, () => 0),
      0,
      `attempt ${i + 1} may start at once`,
    );
  });
  // The first retry is almost immediate whatever the draw.
  for (let i = 0; i < 100; i++) assert.ok(backoffDelayMs(1, policy) < 100);
  // Huge attempt numbers do not overflow the exponent.
  assert.equal(backoffDelayMs(10_000, policy, top), 1999);
});

test('backoff: the draws spread over the whole window (jitter, not a fixed delay)', () => {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const delays = Array.from({ length: 400 }, () => backoffDelayMs(6, policy, random));
  assert.ok(Math.min(...delays) < 200, 'some waits are short');
  assert.ok(Math.max(...delays) > 1800, 'some waits are long');
  assert.ok(delays.every((d) => d >= 0 && d < 2000));
});

test('schedule: gives up after maxAttempts or once maxDowntimeMs has passed, never waiting past it', () => {
  const limited = reconnectPolicy({ maxAttempts: 3, maxDowntimeMs: 1000 });
  assert.ok(limited);
  const top = () => 0.999;
  assert.equal(nextAttemptDelayMs(1, 0, limited, top), 99);
  assert.equal(nextAttemptDelayMs(3, 100, limited, top), 399);
  assert.equal(nextAttemptDelayMs(4, 100, limited, top), undefined, 'attempt 4 of 3');
  assert.equal(nextAttemptDelayMs(2, 1000, limited, top), undefined, 'downtime spent');
  // 900 ms down: the 399 ms wait of attempt 3 is cut to the 100 ms left.
  assert.equal(nextAttemptDelayMs(3, 900, limited, top), 100);

  // Defaults: no attempt limit, 30 s of downtime.
  const defaults = reconnectPolicy(undefined);
  assert.ok(defaults);
  assert.equal(nextAttemptDelayMs(500, 20_000, defaults, top), 1998);
  assert.equal(nextAttemptDelayMs(500, 29_000, defaults, top), 1000);
  assert.equal(nextAttemptDelayMs(2, 30_000, defaults, top), undefined);
});

test('reconnect options: false switches it off, bad values are refused, defaults fill the rest', () => {
  assert.equal(reconnectPolicy(false), undefined);
  assert.deepEqual(reconnectPolicy({ baseDelayMs: 50 }), { ...DEFAULT_RECONNECT, baseDelayMs: 50 });
  assert.throws(() => reconnectPolicy({ maxDelayMs: -1 }), /reconnect\.maxDelayMs/);
  assert.throws(() => reconnectPolicy({ maxAttempts: Number.NaN }), /reconnect\.maxAttempts/);
});

test('resumable closes: lost links, stopping or moving servers, liveness — not verdicts about the client', () => {
  for (const code of [1001, 1006, 1011, 1012, 1013, 4007, 4009, 4010, 4012, 4014, 3008]) {
    assert.equal(isResumableClose(code), true, `${code}`);
  }
  for (const code of [1000, 1008, 1009, 4000, 4001, 4003, 4004, 4008, 4013]) {
    assert.equal(isResumableClose(code), false, `${code}`);
  }
});

test('attempt verdicts: auth failures and refusals give up, a refused token is dropped, the rest retries', () => {
  const verdict = (name: Parameters<typeof PlexusError.of>[0], sentToken = true, status?: number) =>
    attemptVerdict(PlexusError.of(name, undefined, status === undefined ? {} : { status }), sentToken);
  assert.equal(verdict('AUTH_INVALID_SESSION'), 'give-up');
  assert.equal(verdict('LB_SESSION_REQUIRED'), 'give-up');
  assert.equal(verdict('PROTOCOL_DUPLICATE_LOGIN'), 'give-up');
  assert.equal(verdict('PROTOCOL_JOIN_REFUSED'), 'give-up');
  // The balancer refusing the resume token (400): come back without it (a new avatar).
  assert.equal(verdict('COMMON_BAD_REQUEST'), 'retry-without-token');
  assert.equal(verdict('COMMON_BAD_REQUEST', false), 'give-up');
  assert.equal(
    attemptVerdict(new PlexusError(4120, 'resume token refused', { status: 400 }), true),
    'retry-without-token',
  );
  // Transient: the network, timeouts, unavailable or full clusters, handshake refusals.
  for (const name of [
    'CLIENT_NETWORK_ERROR',
    'CLIENT_TIMEOUT',
    'CLIENT_CONNECTION_CLOSED',
    'LB_NO_CAPACITY',
    'LB_BACKEND_UNAVAILABLE',
    'COMMON_RATE_LIMITED',
    'PROTOCOL_TICKET_REPLAYED',
    'PROTOCOL_TICKET_WRONG_TARGET',
    'PROTOCOL_SERVER_FULL',
    'PROTOCOL_SHUTTING_DOWN',
    'PROTOCOL_PLAYGROUND_MOVED',
  ] as const) {
    assert.equal(verdict(name), 'retry', name);
  }
  // Any other 4xx answer of the balancer is final.
  assert.equal(verdict('COMMON_NOT_FOUND'), 'give-up');
  assert.equal(attemptVerdict(new PlexusError(4130, 'private', { status: 403 }), true), 'give-up');
});
