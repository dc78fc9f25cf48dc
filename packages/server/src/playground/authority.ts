import { AuthorityAction, type AuthorityActionCode, SERVER_OWNER } from '@plexus/protocol';
import { type EntityRules, type Outcome, refused } from './entity-rules.ts';
import type { Playground } from './playground.ts';
import type { ClientRequest } from './playground-type.ts';
import { view } from './views.ts';

/** What the type's `onRequest` rule said: allow, refuse (with a reason), or nothing; `error` when it threw. */
export interface RuleVerdict {
  allow?: boolean;
  reason?: string;
  error?: Outcome;
}

export interface AuthorityContext {
  playground: Playground;
  rules: EntityRules;
  /** A member accepted by onJoin. */
  isMember(clientId: number): boolean;
  ruleVerdict(clientId: number, request: ClientRequest): RuleVerdict;
}

/**
 * AUTHORITY: REQUEST (first come wins; grabbable kinds or the type's rule), RELEASE (to the
 * server), TRANSFER (by the owner, to another member). Runs synchronously on the one thread, so
 * racing requests are decided in arrival order and there is exactly one owner at any time
 * (docs/protocol.md §5.7).
 */
export function authorityRequest(
  ctx: AuthorityContext,
  clientId: number,
  action: AuthorityActionCode,
  entityId: number,
  target: number,
): Outcome {
  const entity = ctx.playground.get(entityId);
  if (!entity) return refused('PROTOCOL_UNKNOWN_ENTITY', `No entity ${entityId}`);
  const kind = ctx.rules.kind(entity.kind);
  switch (action) {
    case AuthorityAction.REQUEST: {
      if (entity.owner === clientId) return { ok: true, value: entityId };
      if (entity.owner !== SERVER_OWNER) {
        return refused('PROTOCOL_AUTHORITY_HELD', `Entity ${entityId} is held by client ${entity.owner}`);
      }
      const verdict = ctx.ruleVerdict(clientId, { action: 'request', entity: view(entity) });
      if (verdict.error) return verdict.error;
      if (verdict.allow === false || (verdict.allow === undefined && !kind?.grabbable)) {
        return refused('PROTOCOL_FORBIDDEN_BY_RULE', verdict.reason ?? `"${entity.kind}" cannot be grabbed`);
      }
      ctx.rules.changeOwner(entity, clientId);
      return { ok: true, value: entityId };
    }
    case AuthorityAction.RELEASE:
      if (entity.owner !== clientId) return refused('PROTOCOL_NOT_OWNER', `Entity ${entityId} is not yours`);
      if (kind?.authorityFixed)
        return refused('PROTOCOL_FORBIDDEN_BY_RULE', `"${entity.kind}" cannot be released`);
      ctx.rules.changeOwner(entity, SERVER_OWNER);
      return { ok: true, value: entityId };
    case AuthorityAction.TRANSFER: {
      if (entity.owner !== clientId) return refused('PROTOCOL_NOT_OWNER', `Entity ${entityId} is not yours`);
      if (kind?.authorityFixed) {
        return refused('PROTOCOL_FORBIDDEN_BY_RULE', `"${entity.kind}" cannot be transferred`);
      }
      if (!ctx.isMember(target)) {
        return refused('PROTOCOL_UNKNOWN_CLIENT', `No client ${target} in this playground`);
      }
      if (target === clientId) return { ok: true, value: entityId };
      const verdict = ctx.ruleVerdict(clientId, { action: 'transfer', entity: view(entity), to: target });
      if (verdict.error) return verdict.error;
      if (verdict.allow === false) {
        return refused('PROTOCOL_FORBIDDEN_BY_RULE', verdict.reason ?? 'Transfer refused');
      }
      ctx.rules.changeOwner(entity, target);
      return { ok: true, value: entityId };
    }
  }
}
