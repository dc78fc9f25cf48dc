import { type AvatarPolicy, NO_CUSTOM_AVATARS } from './avatar-source.ts';

/** Path of the balancer's page settings (packages/balancer, routes/web-config.ts). */
const WEB_CONFIG_PATH = '/lb/api/v0/webConfig';

/**
 * The avatar allow-list and size limit from the balancer that serves the page. Any failure means
 * no custom avatars: the page still works with the default model.
 */
export async function loadAvatarPolicy(origin: string): Promise<AvatarPolicy> {
  try {
    const res = await fetch(`${origin}${WEB_CONFIG_PATH}`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return NO_CUSTOM_AVATARS;
    const body = (await res.json()) as { data?: { avatarOrigins?: unknown; avatarMaxBytes?: unknown } };
    const origins = body.data?.avatarOrigins;
    const maxBytes = body.data?.avatarMaxBytes;
    if (!Array.isArray(origins) || typeof maxBytes !== 'number') return NO_CUSTOM_AVATARS;
    return { origins: origins.filter((o): o is string => typeof o === 'string'), maxBytes };
  } catch {
    return NO_CUSTOM_AVATARS;
  }
}
