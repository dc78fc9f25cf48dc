import {
  type AuthResult,
  type GuestInput,
  HttpPaths,
  type ProfileResult,
  type ProfileUpdate,
  type RegisterInput,
} from '@plexus/protocol';
import { type HttpOptions, joinUrl, postEnvelope } from './request.ts';

/**
 * The backend's client-facing RPCs, `POST {baseUrl}/api/v0/rpc/<service>.<method>`. Calls for a
 * logged-in user carry `Authorization: Bearer <sessionId>`. Every method throws a PlexusError on
 * failure.
 */
export class BackendApi {
  private readonly baseUrl: string;
  private readonly http: HttpOptions;

  constructor(baseUrl: string, http: HttpOptions = {}) {
    this.baseUrl = baseUrl;
    this.http = http;
  }

  /** Calls `<service>.<method>` with `body`; `sessionId` goes in the Authorization header. */
  rpc<T>(method: string, body: unknown, sessionId?: string): Promise<T> {
    return postEnvelope<T>(joinUrl(this.baseUrl, HttpPaths.rpcPrefix + method), body, {
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
