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
 * never kept). Only successes are cached, so a logout is honoured once the entry's TTL has passed.
 */
export class AuthCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: AuthCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(sessionId: string): UserSimple | undefined {
    if (this.#ttlMs <= 0) return undefined;
    const key = keyOf(sessionId);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.user;
  }

  set(sessionId: string, user: UserSimple): void {
    if (this.#ttlMs <= 0) return;
    const key = keyOf(sessionId);
    // Re-inserting moves the key to the end of the Map's insertion order (newest).
    this.#entries.delete(key);
    this.#entries.set(key, { user, expiresAtMs: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

function keyOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}
