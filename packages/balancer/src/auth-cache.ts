import { createHash } from 'node:crypto';
import type { UserSimple } from '@plexus/protocol';

export interface AuthCacheOptions {
  /** How long a successful lookup is reused; 0 disables caching. */
  ttlMs: number;
  /** Upper bound on entries; the oldest entry is evicted first. */
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  user: UserSimple;
  expiresAtMs: number;
}

/**
 * Short-lived cache of successful authChecks, keyed by the SHA-256 of the session id (the raw id is
 * never kept). Only successes are cached. The backend announces every profile change and logout on
 * its event stream; `forgetUser` drops that user's entries, so the next join sees the change
 * (docs/api.md, the auth cache). The TTL only bounds staleness while the stream is down.
 */
export class AuthCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Cache keys by user id, for `forgetUser`. */
  readonly #byUser = new Map<string, Set<string>>();
  #generation = 0;

  constructor(options: AuthCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Changes whenever entries are forgotten. A lookup started under an older generation may have
   * read what was just announced as changed: `set` ignores it.
   */
  get generation(): number {
    return this.#generation;
  }

  get(sessionId: string): UserSimple | undefined {
    if (this.#ttlMs <= 0) return undefined;
    const key = keyOf(sessionId);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#delete(key);
      return undefined;
    }
    return entry.user;
  }

  /** Caches a lookup, unless entries were forgotten since it started (`generation`). */
  set(sessionId: string, user: UserSimple, generation = this.#generation): void {
    if (this.#ttlMs <= 0 || generation !== this.#generation) return;
    const key = keyOf(sessionId);
    // Re-inserting moves the key to the end of the Map's insertion order (newest).
    this.#delete(key);
    this.#entries.set(key, { user, expiresAtMs: this.#now() + this.#ttlMs });
    let keys = this.#byUser.get(user.id);
    if (!keys) {
      keys = new Set();
      this.#byUser.set(user.id, keys);
    }
    keys.add(key);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#delete(oldest.value);
    }
  }

  /** Drops every entry of one user (their profile changed, or a session of theirs logged out). */
  forgetUser(userId: string): void {
    this.#generation++;
    for (const key of this.#byUser.get(userId) ?? []) this.#entries.delete(key);
    this.#byUser.delete(userId);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
    this.#byUser.clear();
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const keys = this.#byUser.get(entry.user.id);
    keys?.delete(key);
    if (keys?.size === 0) this.#byUser.delete(entry.user.id);
  }
}

function keyOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}
