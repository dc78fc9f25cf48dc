import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import {
  type DisplayProfile,
  TICKET_ALGORITHM,
  TICKET_ISSUER,
  type TicketClaims,
  type UserSimple,
} from '@plexus/protocol';

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

/** The protected header of every ticket, encoded once. */
const TICKET_HEADER = Buffer.from(JSON.stringify({ alg: TICKET_ALGORITHM, typ: 'JWT' })).toString(
  'base64url',
);

/**
 * Signs join tickets (compact JWS, EdDSA/Ed25519) with a key pair generated at start-up; dedicated
 * servers verify them offline with `publicJwk`. The private key never leaves the process.
 *
 * Signing is node:crypto's synchronous Ed25519 (tens of microseconds) rather than WebCrypto's, whose
 * promise waits for a thread-pool worker: on a busy machine that wait, not the signature, was what
 * every join paid.
 */
export class TicketSigner {
  readonly publicJwk: TicketPublicJwk;
  readonly #privateKey: KeyObject;
  readonly #ttlMs: number;
  readonly #now: () => number;

  private constructor(privateKey: KeyObject, publicJwk: TicketPublicJwk, ttlMs: number, now: () => number) {
    this.#privateKey = privateKey;
    this.publicJwk = publicJwk;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  static async create(options: { ttlMs: number; now?: () => number }): Promise<TicketSigner> {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
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
    const signingInput = `${TICKET_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign(null, Buffer.from(signingInput), this.#privateKey).toString('base64url');
    const ticket = `${signingInput}.${signature}`;
    return { ticket, claims, expiresAtMs: exp * 1000 };
  }
}
