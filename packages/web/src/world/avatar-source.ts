/**
 * Which custom avatar a user may show, and reading it within a size limit. No three.js here, so
 * that Node tests can drive it.
 */

/** The page's avatar settings, from the balancer (`GET /lb/api/v0/webConfig`). */
export interface AvatarPolicy {
  /** Origins a .glb may come from; empty = default avatars only. */
  origins: readonly string[];
  maxBytes: number;
}

export const NO_CUSTOM_AVATARS: AvatarPolicy = { origins: [], maxBytes: 0 };

/**
 * The `.glb` URL to load for an avatar's props, or undefined for the default model: the props must
 * carry `avatar3D.avatarUrl`, an http(s) URL whose origin is on the allow-list. (Incognito avatars
 * carry no avatar3D at all: the server strips it.)
 */
export function customAvatarUrl(
  props: { readonly [key: string]: unknown },
  policy: AvatarPolicy,
): string | undefined {
  if (policy.origins.length === 0 || policy.maxBytes <= 0) return undefined;
  const avatar3D = props.avatar3D;
  if (typeof avatar3D !== 'object' || avatar3D === null || Array.isArray(avatar3D)) return undefined;
  const raw = (avatar3D as { avatarUrl?: unknown }).avatarUrl;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  return policy.origins.includes(url.origin) ? url.href : undefined;
}

/** A failed custom avatar load; the page keeps the default model and shows why in the test hook. */
export class AvatarLoadError extends Error {
  override readonly name = 'AvatarLoadError';
}

/**
 * The body of `response` as bytes, refusing more than `maxBytes`: first by its Content-Length, then
 * while reading (a server may omit or understate it), cancelling the download at the limit.
 */
export async function readLimited(response: Response, maxBytes: number): Promise<ArrayBuffer> {
  if (!response.ok) throw new AvatarLoadError(`HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new AvatarLoadError(`larger than ${maxBytes} bytes (${declared})`);
  }
  const reader = response.body?.getReader();
  if (!reader) throw new AvatarLoadError('no body');
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new AvatarLoadError(`larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}
