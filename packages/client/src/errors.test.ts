import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@plexus/protocol';
import { PlexusError } from './errors.ts';

test('PlexusError from a failed envelope carries code, registry name, HTTP status and message', () => {
  const err = PlexusError.fromEnvelope({ code: 2001, message: 'session expired' }, 401);
  assert.ok(err instanceof Error);
  assert.equal(err.code, 2001);
  assert.equal(err.name, 'AUTH_INVALID_SESSION');
  assert.equal(err.status, 401);
  assert.equal(err.message, 'session expired');
  assert.ok(err.is('AUTH_INVALID_SESSION'));
  assert.ok(!err.is('AUTH_INVALID_CREDENTIALS'));
});

test('PlexusError takes status and message from the registry when not given', () => {
  const err = PlexusError.fromEnvelope({ code: ErrorCodes.LB_NO_CAPACITY.code, message: '' });
  assert.equal(err.name, 'LB_NO_CAPACITY');
  assert.equal(err.status, 503);
  assert.equal(err.message, ErrorCodes.LB_NO_CAPACITY.message);
});

test('PlexusError from an ERROR frame with an unknown code keeps the frame name', () => {
  const err = PlexusError.fromFrame({ code: 5999, name: 'PROTOCOL_FROM_THE_FUTURE', message: 'new' });
  assert.equal(err.code, 5999);
  assert.equal(err.name, 'PROTOCOL_FROM_THE_FUTURE');
  assert.equal(err.status, 500);
});

test('PlexusError.of builds a registry error with a specific message and cause', () => {
  const cause = new TypeError('fetch failed');
  const err = PlexusError.of('CLIENT_NETWORK_ERROR', 'Could not reach x', { cause });
  assert.equal(err.code, 6001);
  assert.equal(err.name, 'CLIENT_NETWORK_ERROR');
  assert.equal(err.cause, cause);
});
