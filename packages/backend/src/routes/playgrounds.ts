import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../services/auth-service.ts';
import type { CatalogueService } from '../services/catalogue-service.ts';
import type { PartyService } from '../services/party-service.ts';
import {
  codeSchema,
  pageFields,
  playgroundTypeSchema,
  regionSchema,
  tagsSchema,
} from './catalogue-schemas.ts';
import { requireSession } from './session.ts';

const rpc = (method: string) => `${HttpPaths.rpcPrefix}${method}`;

const browseBody = z.strictObject({
  type: playgroundTypeSchema.optional(),
  tags: tagsSchema.optional(),
  region: regionSchema.optional(),
  ...pageFields,
});
const inviteBody = z.strictObject({ inviteCode: codeSchema });
const joinBody = z.strictObject({ code: codeSchema });
const emptyBody = z.strictObject({});

/** Player RPCs of the catalogue and parties (`Authorization: Bearer <sessionId>`). */
export function registerPlaygroundRoutes(
  app: FastifyInstance,
  deps: { auth: AuthService; catalogue: CatalogueService; parties: PartyService },
): void {
  const { auth, catalogue, parties } = deps;
  const userOf = async (req: Parameters<typeof requireSession>[1]) => (await requireSession(auth, req)).user;

  app.post(rpc('playgrounds.browse'), { schema: bodySchema(browseBody) }, async (req) => {
    await userOf(req);
    return ok(await catalogue.browse(parseInput(browseBody, req.body)));
  });
  app.post(rpc('playgrounds.resolveInvite'), { schema: bodySchema(inviteBody) }, async (req) => {
    await userOf(req);
    return ok(await catalogue.resolveInvite(parseInput(inviteBody, req.body).inviteCode));
  });

  app.post(rpc('party.create'), { schema: bodySchema(emptyBody) }, async (req) => {
    const user = await userOf(req);
    parseInput(emptyBody, req.body);
    return ok(await parties.create(user.id));
  });
  app.post(rpc('party.join'), { schema: bodySchema(joinBody) }, async (req) => {
    const user = await userOf(req);
    return ok(await parties.join(user.id, parseInput(joinBody, req.body).code));
  });
  app.post(rpc('party.leave'), { schema: bodySchema(emptyBody) }, async (req) => {
    const user = await userOf(req);
    parseInput(emptyBody, req.body);
    return ok({ left: await parties.leave(user.id) });
  });
  app.post(rpc('party.get'), { schema: bodySchema(emptyBody) }, async (req) => {
    const user = await userOf(req);
    parseInput(emptyBody, req.body);
    return ok({ party: await parties.get(user.id) });
  });
}
