import { createPublicKey, type JsonWebKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import { PLAYGROUND_ID_PATTERN, TICKET_ALGORITHM, TICKET_ISSUER, type TicketClaims } from '@plexus/protocol';
import { z } from 'zod';

const text = (max: number) => z.string().max(max);

const avatar3DSchema = z.object({
  assetId: text(256),
  assetSkins: z.record(text(128), text(256)).refine((r) => Object.keys(r).length <= 64, 'too many skins'),
  avatarUrl: text(2048),
  avatarUserId: text(256),
});

const claimsSchema = z.object({
  iss: z.literal(TICKET_ISSUER),
  aud: z.string().min(1),
  sub: z.string().min(1).max(128),
  jti: z.string().min(16).max(128),
  iat: z.number(),
  exp: z.number(),
  pg: z.string().regex(PLAYGROUND_ID_PATTERN),
  prof: z.object({
    firstName: text(128),
    lastName: text(128),
    privacyMode: z.number().int().min(0),
    avatar: text(2048),
    avatar3D: avatar3DSchema.optional(),
    companyName: text(256),
    companyTitle: text(256),
  }),
  rt: z.string().max(1024).optional(),
});

export type VerifiedTicket = TicketClaims;

export type TicketVerdict =
  | { ok: true; claims: VerifiedTicket }
  | { ok: false; error: 'PROTOCOL_TICKET_INVALID' | 'PROTOCOL_TICKET_WRONG_TARGET' | 'PROTOCOL_NOT_READY' };

/** Tolerated clock difference between balancer and server when checking exp/iat. */
const CLOCK_TOLERANCE_S = 2;

/**
 * The last moment (epoch ms, server clock) a ticket with this `exp` still verifies: a used ticket id
 * must be remembered at least this long, or a replay within the clock tolerance would get in.
 */
export function ticketUsableUntilMs(exp: number): number {
  return (exp + CLOCK_TOLERANCE_S) * 1000;
}

/** A compact JWS: three base64url segments. */
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const REQUIRED_CLAIMS = ['exp', 'iat', 'jti', 'sub'] as const;

const INVALID: TicketVerdict = { ok: false, error: 'PROTOCOL_TICKET_INVALID' };

/**
 * Verifies join tickets offline with the balancers' Ed25519 public keys (one received on each
 * control channel): a ticket signed by any of them is good. Signature first: only a correctly
 * signed ticket can be "for another server". The claims are then checked as RFC 7519 says (`iss`,
 * `aud`, `exp` and `nbf` with the clock tolerance, the required claims) and parsed by a schema.
 *
 * node:crypto's synchronous Ed25519 verify (tens of microseconds) rather than WebCrypto's: that one
 * resolves only once a thread-pool worker ran it, and on a busy machine every HELLO waited for the
 * worker rather than for the signature.
 */
export class TicketVerifier {
  private readonly serverId: string;
  private readonly now: () => number;
  /** Balancer URL → its key (a balancer that restarts with a new key replaces its entry). */
  private readonly keys = new Map<string, KeyObject>();

  constructor(serverId: string, now: () => number = Date.now) {
    this.serverId = serverId;
    this.now = now;
  }

  get ready(): boolean {
    return this.keys.size > 0;
  }

  async setKey(jwk: JsonWebKey, source = 'default'): Promise<void> {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('a ticket key must be an Ed25519 public key');
    this.keys.set(source, key);
  }

  async verify(ticket: string): Promise<TicketVerdict> {
    if (this.keys.size === 0) return { ok: false, error: 'PROTOCOL_NOT_READY' };
    const parts = COMPACT_JWS.exec(ticket);
    if (!parts) return INVALID;
    const [, headerPart, payloadPart, signaturePart] = parts as unknown as [string, string, string, string];
    const header = jsonObject(headerPart);
    if (header?.alg !== TICKET_ALGORITHM || header.crit !== undefined) return INVALID;
    const signingInput = Buffer.from(`${headerPart}.${payloadPart}`);
    const signature = Buffer.from(signaturePart, 'base64url');
    let signed = false;
    for (const key of this.keys.values()) {
      if (verifySignature(null, signingInput, key, signature)) {
        signed = true;
        break;
      }
    }
    if (!signed) return INVALID;
    const payload = jsonObject(payloadPart);
    if (!payload) return INVALID;
    const claimsError = this.checkClaims(payload);
    if (claimsError) return { ok: false, error: claimsError };
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) return INVALID;
    return { ok: true, claims: parsed.data as VerifiedTicket };
  }

  /** The registered claims of a genuine ticket; only a wrong `aud` makes it WRONG_TARGET. */
  private checkClaims(
    payload: Record<string, unknown>,
  ): 'PROTOCOL_TICKET_INVALID' | 'PROTOCOL_TICKET_WRONG_TARGET' | null {
    if (REQUIRED_CLAIMS.some((claim) => payload[claim] === undefined)) return 'PROTOCOL_TICKET_INVALID';
    if (payload.iss !== TICKET_ISSUER) return 'PROTOCOL_TICKET_INVALID';
    const aud = payload.aud;
    if (!(aud === this.serverId || (Array.isArray(aud) && aud.includes(this.serverId)))) {
      return 'PROTOCOL_TICKET_WRONG_TARGET';
    }
    const nowS = Math.floor(this.now() / 1000);
    const { iat, nbf, exp } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number') return 'PROTOCOL_TICKET_INVALID';
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowS + CLOCK_TOLERANCE_S)) {
      return 'PROTOCOL_TICKET_INVALID';
    }
    if (exp <= nowS - CLOCK_TOLERANCE_S) return 'PROTOCOL_TICKET_INVALID';
    return null;
  }
}

/** A base64url segment holding a JSON object, or undefined. */
function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
