import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../services/auth-service.ts';
import type { ProfileService } from '../services/profile-service.ts';
import type { ProfilePatch } from '../storage/repository.ts';
import { displayText } from './display-text-schema.ts';
import { requireSession } from './session.ts';

/** Body limit of auth.* RPCs (docs/operations.md "Limits"); other routes keep the server default of 64 KiB. */
export const AUTH_BODY_LIMIT_BYTES = 16 * 1024;

const rpc = (method: string) => `${HttpPaths.rpcPrefix}${method}`;

const name = displayText;
const email = z.string().trim().toLowerCase().max(254).pipe(z.email());
const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const urlOrEmpty = z.union([z.literal(''), httpUrl]);

const registerBody = z.strictObject({
  email,
  password: z.string().min(8).max(256),
  firstName: name(64, 1),
  lastName: name(64).default(''),
});
const loginBody = z.strictObject({ email, password: z.string().min(1).max(256) });
const guestBody = z.strictObject({ firstName: name(64, 1), lastName: name(64).default('') });
const emptyBody = z.strictObject({});

const avatar3D = z.strictObject({
  assetId: z.string().max(128).default(''),
  assetSkins: z
    .record(z.string().min(1).max(64), z.string().max(256))
    .refine((skins) => Object.keys(skins).length <= 32, 'at most 32 entries')
    .default({}),
  avatarUrl: urlOrEmpty.default(''),
  avatarUserId: z.string().max(128).default(''),
});
const profileUpdateBody = z.strictObject({
  firstName: name(64, 1).optional(),
  lastName: name(64).optional(),
  privacyMode: z.union([z.literal(0), z.literal(1)]).optional(),
  avatar: urlOrEmpty.optional(),
  avatar3D: avatar3D.nullable().optional(),
  companyName: name(128).optional(),
  companyTitle: name(128).optional(),
});

export interface RpcRouteDeps {
  auth: AuthService;
  profiles: ProfileService;
}

/** Client RPCs under /api/v0/rpc/<service>.<method>: parse, call a service, wrap in the envelope. */
export function registerRpcRoutes(app: FastifyInstance, { auth, profiles }: RpcRouteDeps): void {
  const authRoute = { bodyLimit: AUTH_BODY_LIMIT_BYTES };

  app.post(rpc('auth.register'), { ...authRoute, schema: bodySchema(registerBody) }, async (req) => {
    const body = parseInput(registerBody, req.body);
    return ok(await auth.register(body));
  });

  app.post(rpc('auth.login'), { ...authRoute, schema: bodySchema(loginBody) }, async (req) => {
    const body = parseInput(loginBody, req.body);
    return ok(await auth.login(body.email, body.password));
  });

  app.post(rpc('auth.guest'), { ...authRoute, schema: bodySchema(guestBody) }, async (req) => {
    const body = parseInput(guestBody, req.body);
    return ok(await auth.guest(body));
  });

  app.post(rpc('auth.logout'), { ...authRoute, schema: bodySchema(emptyBody) }, async (req) => {
    const { sessionId } = await requireSession(auth, req);
    parseInput(emptyBody, req.body);
    await auth.logout(sessionId);
    return ok({ loggedOut: true });
  });

  app.post(rpc('profile.get'), { schema: bodySchema(emptyBody) }, async (req) => {
    const { user } = await requireSession(auth, req);
    parseInput(emptyBody, req.body);
    return ok({ user: await profiles.get(user.id) });
  });

  app.post(rpc('profile.update'), { schema: bodySchema(profileUpdateBody) }, async (req) => {
    const { user } = await requireSession(auth, req);
    const body = parseInput(profileUpdateBody, req.body);
    const patch: ProfilePatch = {};
    for (const [key, value] of Object.entries(body)) {
      if (value !== undefined) (patch as Record<string, unknown>)[key] = value;
    }
    return ok({ user: await profiles.update(user.id, patch) });
  });
}
