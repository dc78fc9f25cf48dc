import type { PlexusError } from '../errors.ts';
import { type HttpOptions, joinUrl, postEnvelope } from './request.ts';

/** Answers that are a verdict of the whole cluster, not of one instance: another URL would say the same. */
const CLUSTER_VERDICTS: ReadonlySet<string> = new Set(['LB_NO_CAPACITY', 'MATCH_NO_PLAYGROUND']);

/**
 * True when a request that failed with `error` may succeed on another instance of the same service:
 * it could not be sent or answered (network, timeout), the answer was not an envelope (a proxy's
 * error page), or the instance said it is unavailable (HTTP 502/503/504) — unless the 503 is a
 * verdict about the cluster (no capacity, no playground).
 */
export function worthAnotherUrl(error: PlexusError): boolean {
  if (error.is('CLIENT_NETWORK_ERROR') || error.is('CLIENT_TIMEOUT') || error.is('CLIENT_BAD_RESPONSE')) {
    return true;
  }
  return (
    (error.status === 502 || error.status === 503 || error.status === 504) &&
    !CLUSTER_VERDICTS.has(error.name)
  );
}

/**
 * The base URLs of interchangeable instances of one service — several load balancers that share
 * their state, reached through nothing but this list. Each client starts at a random URL (so that
 * clients spread over the instances), keeps using the last one that answered, and on a failure that
 * another instance may not have ({@link worthAnotherUrl}) tries the next URLs in turn, each once
 * per request. Any other error envelope is the answer and is thrown at once.
 *
 * A request retried after a timeout may have been processed by the first instance; the balancer
 * and backend RPCs the SDK calls are safe to repeat (a second ticket, a second guest).
 */
export class UrlPool {
  readonly urls: readonly string[];
  private current: number;

  /** `start`: index of the first URL to try (default random). */
  constructor(urls: string | readonly string[], start?: number) {
    const list = typeof urls === 'string' ? [urls] : [...urls];
    if (list.length === 0 || list.some((u) => typeof u !== 'string' || u.length === 0)) {
      throw new TypeError('Give at least one non-empty base URL');
    }
    this.urls = list;
    this.current = start === undefined ? Math.floor(Math.random() * list.length) : start % list.length;
  }

  /** The base URL the next request goes to first. */
  get preferred(): string {
    return this.urls[this.current] as string;
  }

  /**
   * POSTs `body` to `path` on the preferred URL and unwraps the envelope (see postEnvelope), moving
   * on to the next URL while the failure is worth it. Throws the last failure when none answered.
   */
  async post<T>(
    path: string,
    body: unknown,
    options: HttpOptions & { bearer?: string | undefined },
  ): Promise<T> {
    const n = this.urls.length;
    let lastError: unknown;
    for (let i = 0; i < n; i++) {
      const index = (this.current + i) % n;
      try {
        const data = await postEnvelope<T>(joinUrl(this.urls[index] as string, path), body, options);
        this.current = index;
        return data;
      } catch (err) {
        if (!worthAnotherUrl(err as PlexusError)) {
          // An answer (an error envelope) proves this instance alive: keep using it.
          this.current = index;
          throw err;
        }
        lastError = err;
      }
    }
    throw lastError;
  }
}
