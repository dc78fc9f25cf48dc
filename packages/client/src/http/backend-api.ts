import {
  type AuthResult,
  type GuestInput,
  HttpPaths,
  type ProfileResult,
  type ProfileUpdate,
  type RegisterInput,
} from '@plexus/protocol';
import type { HttpOptions } from './request.ts';
import { UrlPool } from './url-pool.ts';

/**
 * The backend's client-facing RPCs, `POST {baseUrl}/api/v0/rpc/<service>.<method>`. Calls for a
 * logged-in user carry `Authorization: Bearer <sessionId>`. Every method throws a PlexusError on
 * failure. With several base URLs (balancers proxying the RPCs), a call moves on to the next one
 * when an instance is unreachable or unavailable (see {@link UrlPool}).
 */
export class BackendApi {
  private readonly pool: UrlPool;
  private readonly http: HttpOptions;

  /** `baseUrl`: one URL, a list of interchangeable ones, or a pool shared with another API. */
  constructor(baseUrl: string | readonly string[] | UrlPool, http: HttpOptions = {}) {
    this.pool = baseUrl instanceof UrlPool ? baseUrl : new UrlPool(baseUrl);
    this.http = http;
  }

  /** Calls `<service>.<method>` with `body`; `sessionId` goes in the Authorization header. */
  rpc<T>(method: string, body: unknown, sessionId?: string): Promise<T> {
    return this.pool.post<T>(HttpPaths.rpcPrefix + method, body, {
      ...this.http,
      bearer: sessionId,
    });
  }

  register(input: RegisterInput): Promise<AuthResult> {
    return this.rpc('auth.register', input);
  }

  login(email: string, password: string): Promise<AuthResult> {
    return this.rpc('auth.login', { email, password });
  }

  guest(input: GuestInput): Promise<AuthResult> {
    return this.rpc('auth.guest', input);
  }

  logout(sessionId: string): Promise<unknown> {
    return this.rpc('auth.logout', {}, sessionId);
  }

  getProfile(sessionId: string): Promise<ProfileResult> {
    return this.rpc('profile.get', {}, sessionId);
  }

  updateProfile(sessionId: string, update: ProfileUpdate): Promise<ProfileResult> {
    return this.rpc('profile.update', update, sessionId);
  }
}
