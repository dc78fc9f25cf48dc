import type { Member } from './playground-type.ts';

/** A member as the logic holds it: what hooks see, plus how to reach its socket. */
export interface MemberHandle extends Member {
  /** Sends a server frame (held by the member until its WELCOME went out). */
  send(bytes: Uint8Array): void;
}

interface MemberRecord extends MemberHandle {
  /** onJoin accepted it (hooks only ever see joined members). */
  joined: boolean;
}

/** The members of one playground as its logic sees them: who is in, and how to message them. */
export class LogicMembers {
  private readonly records = new Map<number, MemberRecord>();

  /** A joining client, not yet accepted by onJoin. */
  add(handle: MemberHandle): MemberRecord {
    const record = { ...handle, joined: false };
    this.records.set(handle.clientId, record);
    return record;
  }

  /** Removes a client; its record, if it had one. */
  remove(clientId: number): MemberRecord | undefined {
    const record = this.records.get(clientId);
    this.records.delete(clientId);
    return record;
  }

  /** A client with a record, joined or still joining (it may own entities). */
  has(clientId: number): boolean {
    return this.records.has(clientId);
  }

  /** A member accepted by onJoin. */
  joined(clientId: number): MemberRecord | undefined {
    const r = this.records.get(clientId);
    return r?.joined ? r : undefined;
  }

  /** Any record, joined or not (hooks run for the joining one too). */
  record(clientId: number): MemberRecord | undefined {
    return this.records.get(clientId);
  }

  get count(): number {
    let n = 0;
    for (const r of this.records.values()) if (r.joined) n++;
    return n;
  }

  /** Every joined member, as hooks see it. */
  list(): Member[] {
    return [...this.records.values()].filter((r) => r.joined).map(toMember);
  }

  /** Is `entityId` some member's avatar (an avatar leaves with its client). */
  isAvatar(entityId: number): boolean {
    for (const r of this.records.values()) if (r.avatarId === entityId) return true;
    return false;
  }

  sendTo(ids: Iterable<number>, bytes: Uint8Array): void {
    for (const id of ids) this.records.get(id)?.send(bytes);
  }

  broadcast(bytes: Uint8Array, except?: number): void {
    for (const r of this.records.values()) if (r.joined && r.clientId !== except) r.send(bytes);
  }
}

/** What hooks see of a member (a copy: they cannot reach its socket). */
export function toMember(r: Member): Member {
  return {
    clientId: r.clientId,
    userId: r.userId,
    avatarId: r.avatarId,
    displayName: r.displayName,
    incognito: r.incognito,
  };
}
