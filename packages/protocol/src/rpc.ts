import type { Avatar3D, UserSimple } from './types.ts';

/** `data` of auth.register, auth.login and auth.guest. */
export interface AuthResult {
  /** Bearer token of the new session; keep it secret (never put it in a URL). */
  sessionId: string;
  /** ISO-8601 expiry of the session. */
  expiresAt: string;
  user: UserSimple;
}

/** `data` of profile.get and profile.update. */
export interface ProfileResult {
  user: UserSimple;
}

/** Body of auth.register. */
export interface RegisterInput {
  email: string;
  password: string;
  firstName: string;
  lastName?: string;
}

/** Body of auth.guest. */
export interface GuestInput {
  firstName: string;
  lastName?: string;
}

/** Body of profile.update: any User Simple field but the id; `avatar3D: null` clears it. */
export type ProfileUpdate = Partial<Omit<UserSimple, 'id' | 'avatar3D'>> & { avatar3D?: Avatar3D | null };
