import type { Envelope } from '@plexus/protocol';
import { PlexusError, toPlexusError } from '../errors.ts';

/** The `fetch` function the SDK uses (the global one unless injected). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/** Transport options shared by the HTTP clients. */
export interface HttpOptions {
  /** Replaces the global `fetch` (tests, exotic runtimes). */
  fetch?: FetchFn;
  /** Per-request deadline in milliseconds (default 10 000). */
  timeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Joins a base URL (with or without a trailing slash) and an absolute path. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

/**
 * POSTs `body` as JSON to `url` and unwraps the `{data, error}` envelope: returns `data`, or throws
 * the envelope's error as a PlexusError. Network failures, timeouts and responses that are not an
 * envelope also become PlexusErrors (CLIENT_NETWORK_ERROR, CLIENT_TIMEOUT, CLIENT_BAD_RESPONSE).
 */
export async function postEnvelope<T>(
  url: string,
  body: unknown,
  options: HttpOptions & { bearer?: string | undefined } = {},
): Promise<T> {
  const doFetch: FetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;

  let response: Response;
  let text: string;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body ?? {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    if (isTimeout(err)) {
      throw PlexusError.of('CLIENT_TIMEOUT', `No answer from ${url} within ${timeoutMs} ms`, { cause: err });
    }
    throw toPlexusError(err, 'CLIENT_NETWORK_ERROR', `Could not reach ${url}`);
  }

  const envelope = parseEnvelope<T>(text);
  if (!envelope) {
    throw PlexusError.of(
      'CLIENT_BAD_RESPONSE',
      `${url} answered HTTP ${response.status} without a JSON envelope`,
      { status: response.status >= 400 ? response.status : 502 },
    );
  }
  if (envelope.error.status) throw PlexusError.fromEnvelope(envelope.error, response.status);
  if (envelope.data === null || envelope.data === undefined) {
    throw PlexusError.of('CLIENT_BAD_RESPONSE', `${url} answered success without data`);
  }
  return envelope.data;
}

/** Parses an envelope; undefined when `text` is not one. */
export function parseEnvelope<T>(text: string): Envelope<T> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, code, message } = error as Record<string, unknown>;
  if (typeof status !== 'boolean') return undefined;
  return {
    data: ((value as { data?: unknown }).data ?? null) as T | null,
    error: {
      status,
      code: typeof code === 'number' ? code : 0,
      message: typeof message === 'string' ? message : '',
    },
  };
}

function isTimeout(err: unknown): boolean {
  // The abort reason is a DOMException, which is not an Error subclass in every runtime.
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}
