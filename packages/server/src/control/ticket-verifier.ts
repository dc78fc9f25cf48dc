import { PLAYGROUND_ID_PATTERN, TICKET_ALGORITHM, TICKET_ISSUER, type TicketClaims } from '@plexus/protocol';
import { importJWK, type JWK, errors as joseErrors, jwtVerify } from 'jose';
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

/**
 * Verifies join tickets offline with the balancers' Ed25519 public keys (one received on each
 * control channel): a ticket signed by any of them is good. Signature first: only a correctly
 * signed ticket can be "for another server".
 */
export class TicketVerifier {
  private readonly serverId: string;
  private readonly now: () => number;
  /** Balancer URL → its key (a balancer that restarts with a new key replaces its entry). */
  private readonly keys = new Map<string, CryptoKey | Uint8Array>();

  constructor(serverId: string, now: () => number = Date.now) {
    this.serverId = serverId;
    this.now = now;
  }

  get ready(): boolean {
    return this.keys.size > 0;
  }

  async setKey(jwk: JWK, source = 'default'): Promise<void> {
    this.keys.set(source, await importJWK(jwk, TICKET_ALGORITHM));
  }

  async verify(ticket: string): Promise<TicketVerdict> {
    if (this.keys.size === 0) return { ok: false, error: 'PROTOCOL_NOT_READY' };
    let payload: unknown;
    let verdict: TicketVerdict = { ok: false, error: 'PROTOCOL_TICKET_INVALID' };
    for (const key of this.keys.values()) {
      try {
        ({ payload } = await jwtVerify(ticket, key, {
          issuer: TICKET_ISSUER,
          audience: this.serverId,
          algorithms: [TICKET_ALGORITHM],
          requiredClaims: ['exp', 'iat', 'jti', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(this.now()),
        }));
        verdict = { ok: true, claims: payload as VerifiedTicket };
        break;
      } catch (err) {
        // jose checks claims only after the signature verified, so an `aud` failure is a genuine
        // ticket for another server; any other claim failure is final too (the key was right).
        if (err instanceof joseErrors.JWTClaimValidationFailed) {
          verdict = {
            ok: false,
            error: err.claim === 'aud' ? 'PROTOCOL_TICKET_WRONG_TARGET' : 'PROTOCOL_TICKET_INVALID',
          };
          break;
        }
        if (err instanceof joseErrors.JWTExpired) break;
      }
    }
    if (!verdict.ok) return verdict;
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) return { ok: false, error: 'PROTOCOL_TICKET_INVALID' };
    return { ok: true, claims: parsed.data as VerifiedTicket };
  }
}
