import type { Avatar3D, UserSimple } from '@plexus/protocol';
import type { UserRecord } from '../storage/repository.ts';

/** An avatar3D with nothing chosen is treated as absent (stored as NULL, omitted on the wire). */
export function isEmptyAvatar3D(a: Avatar3D): boolean {
  return (
    a.assetId === '' && a.avatarUrl === '' && a.avatarUserId === '' && Object.keys(a.assetSkins).length === 0
  );
}

/** Renders the User Simple model (docs/api.md "Sessions and the User Simple model"): exactly these fields, avatar3D omitted when empty. */
export function toUserSimple(user: UserRecord): UserSimple {
  const avatar3D = user.avatar3D && !isEmptyAvatar3D(user.avatar3D) ? user.avatar3D : undefined;
  const simple: UserSimple = {
    id: user.id,
    firstName: user.firstName,
    lastName: user.lastName,
    privacyMode: user.privacyMode,
    avatar: user.avatar,
    ...(avatar3D && {
      avatar3D: {
        assetId: avatar3D.assetId,
        assetSkins: { ...avatar3D.assetSkins },
        avatarUrl: avatar3D.avatarUrl,
        avatarUserId: avatar3D.avatarUserId,
      },
    }),
    companyName: user.companyName,
    companyTitle: user.companyTitle,
  };
  return simple;
}
