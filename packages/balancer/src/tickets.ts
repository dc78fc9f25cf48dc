import { randomBytes } from 'node:crypto';
import {
  type DisplayProfile,
  TICKET_ALGORITHM,
  TICKET_ISSUER,
  type TicketClaims,
  type UserSimple,
} from '@plexus/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** The Ed25519 public key as a JWK, as sent in the control channel's `registered` message. */
export interface TicketPublicJwk {
  kty: string;
  crv: string;
  x: string;
}

/** Who the ticket is for: a user as the backend knows them, or an id and a profile (relocation). */
export type TicketHolder = { user: UserSimple } | { userId: string; profile: DisplayProfile };

export type TicketRequest = TicketHolder & {
  serverId: string;
  playgroundId: string;
  /** Unique ticket id; see newTicketId. */
  jti: string;
  /** Issue time (ms since epoch); defaults to the signer's clock. */
  nowMs?: number;
  /** A verified resume token, carried as the `rt` claim. */
  resumeToken?: string | undefined;
};

export interface SignedTicket {
  ticket: string;
  claims: TicketClaims;
  expiresAtMs: number;
}

/** A unique ticket id: 16 random bytes (128 bits), base64url. */
export function newTicketId(): string {
  return randomBytes(16).toString('base64url');
}

/** What an avatar may show of its user (the DS anonymises it for privacyMode 1). */
export function displayProfileOf(user: UserSimple): DisplayProfile {
  const profile: DisplayProfile = {
    firstName: user.firstName,
    lastName: user.lastName,
    privacyMode: user.privacyMode,
    avatar: user.avatar,
    companyName: user.companyName,
    companyTitle: user.companyTitle,
  };
  if (user.avatar3D) profile.avatar3D = user.avatar3D;
  return profile;
}

/**
 * Signs join tickets (compact JWS, EdDSA/Ed25519) with a key pair generated at start-up; dedicated
 * servers verify them offline with `publicJwk`. The private key never leaves the process.
 */
export class TicketSigner {
  readonly publicJwk: TicketPublicJwk;
  readonly #privateKey: CryptoKey;
  readonly #ttlMs: number;
  readonly #now: () => number;

  private constructor(privateKey: CryptoKey, publicJwk: TicketPublicJwk, ttlMs: number, now: () => number) {
    this.#privateKey = privateKey;
    this.publicJwk = publicJwk;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  static async create(options: { ttlMs: number; now?: () => number }): Promise<TicketSigner> {
    const { privateKey, publicKey } = await generateKeyPair(TICKET_ALGORITHM, { crv: 'Ed25519' });
    const jwk = await exportJWK(publicKey);
    if (!jwk.kty || !jwk.crv || !jwk.x) throw new Error('exported ticket key is not an OKP JWK');
    return new TicketSigner(
      privateKey,
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x },
      options.ttlMs,
      options.now ?? Date.now,
    );
  }

  /** Current time of the signer's clock (ms since epoch). */
  now(): number {
    return this.#now();
  }

  /** When a ticket issued at `nowMs` expires (ms since epoch, whole seconds as in `exp`). */
  expiryFor(nowMs: number): number {
    return Math.floor((nowMs + this.#ttlMs) / 1000) * 1000;
  }

  async sign(request: TicketRequest): Promise<SignedTicket> {
    const nowMs = request.nowMs ?? this.#now();
    const iat = Math.floor(nowMs / 1000);
    const exp = this.expiryFor(nowMs) / 1000;
    const claims: TicketClaims = {
      iss: TICKET_ISSUER,
      aud: request.serverId,
      sub: 'user' in request ? request.user.id : request.userId,
      jti: request.jti,
      iat,
      exp,
      pg: request.playgroundId,
      prof: 'user' in request ? displayProfileOf(request.user) : request.profile,
    };
    if (request.resumeToken !== undefined) claims.rt = request.resumeToken;
    const privateClaims =
      claims.rt === undefined
        ? { pg: claims.pg, prof: claims.prof }
        : { pg: claims.pg, prof: claims.prof, rt: claims.rt };
    const ticket = await new SignJWT(privateClaims)
      .setProtectedHeader({ alg: TICKET_ALGORITHM, typ: 'JWT' })
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(this.#privateKey);
    return { ticket, claims, expiresAtMs: exp * 1000 };
  }
}
