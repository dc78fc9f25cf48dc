import type { Avatar3D } from './types.ts';

/** Issuer (`iss`) of join tickets signed by the load balancer. */
export const TICKET_ISSUER = 'plexus-balancer';

/** JWS algorithm of join tickets (Ed25519). */
export const TICKET_ALGORITHM = 'EdDSA';

/** What an avatar may show of its user; the dedicated server anonymises it for privacyMode 1. */
export interface DisplayProfile {
  firstName: string;
  lastName: string;
  privacyMode: number;
  avatar: string;
  avatar3D?: Avatar3D;
  companyName: string;
  companyTitle: string;
}

/**
 * Claims of a join ticket (a compact JWS, EdDSA). Standard claims: `iss` = TICKET_ISSUER,
 * `aud` = the dedicated server's id, `sub` = user id, `jti` = unique ticket id (≥128 random bits),
 * `iat`/`exp` in seconds. Private claims: `pg` = playground id, `prof` = display profile.
 */
export interface TicketClaims {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  iat: number;
  exp: number;
  pg: string;
  prof: DisplayProfile;
  /**
   * Resume token (see kit resume-token.ts) when the user returns to a playground they were in: the
   * server restores their avatar instead of spawning a new one. Checked by the balancer when it signs.
   */
  rt?: string;
}
