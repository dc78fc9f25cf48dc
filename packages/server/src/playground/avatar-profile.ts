import { randomBytes } from 'node:crypto';
import { type DisplayProfile, PrivacyMode, type Props } from '@plexus/protocol';

/** Random source for the anonymous suffix (injected in tests). */
export type RandomHex4 = () => string;

const defaultRandomHex4: RandomHex4 = () => randomBytes(2).toString('hex');

/**
 * The props replicated on a user's avatar. For privacyMode 1 (incognito) only an anonymous name is
 * shown: nothing from the profile (name, company, pictures, 3D avatar with its user id) reaches
 * the wire.
 */
export function avatarProps(profile: DisplayProfile, randomHex4: RandomHex4 = defaultRandomHex4): Props {
  // Any mode other than 0 is treated as incognito: an unknown mode fails safe.
  if (profile.privacyMode !== PrivacyMode.DEFAULT) {
    return { displayName: `Anonymous ${randomHex4()}`, anonymous: true };
  }
  const props: Props = {
    displayName: `${profile.firstName} ${profile.lastName}`.trim(),
    firstName: profile.firstName,
    lastName: profile.lastName,
    companyName: profile.companyName,
    companyTitle: profile.companyTitle,
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
