/** A position in metres, y up. */
export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

/** A rotation as a unit quaternion. */
export interface Quat {
  x: number;
  y: number;
  z: number;
  w: number;
}

/** JSON-compatible value for entity properties. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Props = { [key: string]: JsonValue };

/** An entity as carried on the wire and mirrored by clients. */
export interface EntityState {
  id: number;
  /** Client id of the owner; 0 (SERVER_OWNER) for server-owned entities. */
  owner: number;
  kind: string;
  position: Vec3;
  rotation: Quat;
  props: Props;
}

/** The 3D avatar selection of a user (docs/api.md "Sessions and the User Simple model"). */
export interface Avatar3D {
  assetId: string;
  assetSkins: Record<string, string>;
  avatarUrl: string;
  avatarUserId: string;
}

/** The User Simple model returned by authCheck.getUserBySessionId and auth RPCs. */
export interface UserSimple {
  id: string;
  firstName: string;
  lastName: string;
  /** 0 default, 1 incognito. */
  privacyMode: number;
  avatar: string;
  avatar3D?: Avatar3D;
  companyName: string;
  companyTitle: string;
}

/** privacyMode values. */
export const PrivacyMode = {
  DEFAULT: 0,
  INCOGNITO: 1,
} as const;

/** The success/failure envelope of every JSON API. */
export interface Envelope<T> {
  data: T | null;
  error: { status: boolean; code: number; message: string };
}

/** `data` of a successful getEndpoint / getEndpointPlaygroundId call. */
export interface EndpointGrant {
  endpoint: string;
  ticket: string;
  serverId: string;
  playgroundId: string;
  expiresAt: string;
}

/** JSON body of the WELCOME frame. */
export interface Welcome {
  protocolVersion: number;
  clientId: number;
  /** Entity id of the client's own avatar. */
  selfId: number;
  playgroundId: string;
  serverId: string;
  tickRateHz: number;
  serverTimeMs: number;
  /**
   * Token to resume this presence after a drop: pass it to getEndpointPlaygroundId as `resumeToken`.
   * Refreshed by every WELCOME.
   */
  resumeToken?: string;
  /** True when this join resumed an earlier presence (same avatar entity, restored position). */
  resumed?: boolean;
}
