import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DisplayProfile } from '@plexus/protocol';
import { avatarProps, readmittedAvatarProps } from './avatar-profile.ts';

const profile: DisplayProfile = {
  firstName: 'Grace',
  lastName: 'Hopper',
  privacyMode: 0,
  avatar: 'https://example.test/grace.png',
  avatar3D: {
    assetId: 'asset-1',
    assetSkins: { hair: 'grey' },
    avatarUrl: 'https://example.test/grace.glb',
    avatarUserId: 'user-grace-42',
  },
  companyName: 'US Navy',
  companyTitle: 'Rear Admiral',
};

test('privacyMode 0 shows the display name, names, company and avatars', () => {
  assert.deepEqual(avatarProps(profile), {
    displayName: 'Grace Hopper',
    firstName: 'Grace',
    lastName: 'Hopper',
    companyName: 'US Navy',
    companyTitle: 'Rear Admiral',
    avatar: 'https://example.test/grace.png',
    avatar3D: profile.avatar3D as NonNullable<DisplayProfile['avatar3D']> & Record<string, string>,
  } as never);
});

test('the display name is trimmed and avatar3D is absent when the profile has none', () => {
  const { avatar3D: _omit, ...noAvatar } = profile;
  const props = avatarProps({ ...noAvatar, lastName: '' });
  assert.equal(props.displayName, 'Grace');
  assert.equal('avatar3D' in props, false);
});

test('incognito shows only an anonymous name: no name, company, avatar or user id', () => {
  const props = avatarProps({ ...profile, privacyMode: 1 }, () => 'beef');
  assert.deepEqual(props, { displayName: 'Anonymous beef', anonymous: true });
  const json = JSON.stringify(props);
  for (const secret of [
    'Grace',
    'Hopper',
    'Navy',
    'Admiral',
    'grace.png',
    'grace.glb',
    'user-grace-42',
    'asset-1',
  ]) {
    assert.equal(json.includes(secret), false, `${secret} leaked`);
  }
});

test('incognito names get 4 random hex characters', () => {
  const props = avatarProps({ ...profile, privacyMode: 1 });
  assert.match(String(props.displayName), /^Anonymous [0-9a-f]{4}$/);
});

test('an unknown privacy mode fails safe (anonymous)', () => {
  assert.equal(avatarProps({ ...profile, privacyMode: 7 }).anonymous, true);
});

test('a readmitted avatar takes the profile again: incognito drops every profile prop, logic props stay', () => {
  const shown = { ...avatarProps(profile), seat: 3 };
  const hidden = readmittedAvatarProps(shown, { ...profile, privacyMode: 1 }, () => 'beef');
  assert.deepEqual(hidden, { seat: 3, displayName: 'Anonymous beef', anonymous: true });
  // Still incognito at the next resume: the same anonymous name.
  assert.deepEqual(
    readmittedAvatarProps(hidden, { ...profile, privacyMode: 1 }, () => 'cafe'),
    hidden,
  );
  // Visible again: the names come back, the anonymous flag goes.
  assert.deepEqual(readmittedAvatarProps(hidden, profile), { ...avatarProps(profile), seat: 3 });
});

test('control and bidi-override characters stored before the rule never reach the avatar', () => {
  const props = avatarProps({
    ...profile,
    firstName: 'Gr\u0000ace\u202e',
    companyName: '\u2066Navy\u2069\n',
  });
  assert.equal(props.displayName, 'Grace Hopper');
  assert.equal(props.companyName, 'Navy');
});
