import { randomBytes } from 'node:crypto';
import { type DisplayProfile, PrivacyMode, type Props, stripUnsafeDisplayChars } from '@plexus/protocol';

/** Random source for the anonymous suffix (injected in tests). */
export type RandomHex4 = () => string;

const defaultRandomHex4: RandomHex4 = () => randomBytes(2).toString('hex');

/** Every avatar prop that comes from the user's profile (the rest belongs to playground logic). */
const PROFILE_PROPS = [
  'displayName',
  'firstName',
  'lastName',
  'companyName',
  'companyTitle',
  'avatar',
  'avatar3D',
  'anonymous',
] as const;

/**
 * The props replicated on a user's avatar. For privacyMode 1 (incognito) only an anonymous name is
 * shown: nothing from the profile (name, company, pictures, 3D avatar with its user id) reaches
 * the wire. Control and bidi-override characters stored before the backend refused them are
 * stripped (docs/api.md, "Display text").
 */
export function avatarProps(profile: DisplayProfile, randomHex4: RandomHex4 = defaultRandomHex4): Props {
  // Any mode other than 0 is treated as incognito: an unknown mode fails safe.
  if (profile.privacyMode !== PrivacyMode.DEFAULT) {
    return { displayName: `Anonymous ${randomHex4()}`, anonymous: true };
  }
  const text = stripUnsafeDisplayChars;
  const props: Props = {
    displayName: text(`${profile.firstName} ${profile.lastName}`).trim(),
    firstName: text(profile.firstName),
    lastName: text(profile.lastName),
    companyName: text(profile.companyName),
    companyTitle: text(profile.companyTitle),
    avatar: profile.avatar,
  };
  if (profile.avatar3D) {
    const a = profile.avatar3D;
    props.avatar3D = {
      assetId: a.assetId,
      assetSkins: { ...a.assetSkins },
      avatarUrl: a.avatarUrl,
      avatarUserId: a.avatarUserId,
    };
  }
  return props;
}

/**
 * The props of an avatar a user takes back (resume, drain redirect, restore from a checkpoint):
 * every profile prop is derived again from the admitting ticket's profile — a user who turned
 * incognito meanwhile shows nothing of the old profile — and the props playground logic set stay.
 * An avatar that stays anonymous keeps its anonymous name, so observers see the same one.
 */
export function readmittedAvatarProps(
  current: Props,
  profile: DisplayProfile,
  randomHex4: RandomHex4 = defaultRandomHex4,
): Props {
  const next: Props = { ...current };
  for (const key of PROFILE_PROPS) delete next[key];
  const fresh = avatarProps(profile, randomHex4);
  if (fresh.anonymous === true && current.anonymous === true && typeof current.displayName === 'string') {
    fresh.displayName = current.displayName;
  }
  return { ...next, ...fresh };
}
