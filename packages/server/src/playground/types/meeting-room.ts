import type { Vec3 } from '@plexus/protocol';
import { definePlaygroundType, type Member, type PlaygroundApi } from '../playground-type.ts';

/**
 * Example playground type (docs/playground-logic.md): a meeting room with a shared whiteboard and
 * a door only hosts may open. The first member is the host; when the last host leaves, the member
 * who joined earliest becomes one. Hosts may promote others, lock the meeting, open the door and
 * clear the board. Whoever holds the board's authority (the "marker", grabbed with an authority
 * request) writes its text. A clock entity counts the meeting's seconds, driven by the tick.
 */
interface MeetingState {
  hosts: Set<number>;
  locked: boolean;
  doorId: number;
  boardId: number;
  clockId: number;
  startedAt: number;
}

const BOARD_AT: Vec3 = { x: 0, y: 1.5, z: -4 };
const DOOR_AT: Vec3 = { x: 4, y: 0, z: 0 };
const CLOCK_AT: Vec3 = { x: 0, y: 3, z: -4 };

type Api = PlaygroundApi<MeetingState>;

export default definePlaygroundType<MeetingState>({
  name: 'meeting-room',
  state: () => ({ hosts: new Set(), locked: false, doorId: 0, boardId: 0, clockId: 0, startedAt: 0 }),
  limits: { maxMembers: 12, maxEntities: 64 },
  kinds: {
    whiteboard: {
      props: { text: { type: 'string', maxLength: 4000, default: '', multiline: true } },
      grabbable: true,
      // The board stays on its wall: only its text changes.
      bounds: { min: BOARD_AT, max: BOARD_AT },
      maxUpdatesPerSec: 10,
    },
    door: { props: { open: { type: 'boolean', default: false, serverOnly: true } } },
    clock: { props: { elapsedS: { type: 'number', integer: true, min: 0, default: 0, serverOnly: true } } },
  },

  onCreate(api) {
    api.state.startedAt = api.now();
    api.state.boardId = api.spawn({ kind: 'whiteboard', position: BOARD_AT });
    api.state.doorId = api.spawn({ kind: 'door', position: DOOR_AT });
    api.state.clockId = api.spawn({ kind: 'clock', position: CLOCK_AT });
  },

  // What moves with the meeting to another server: the lock and how long it has run. Entity ids
  // survive a restore; hosts are client ids, which do not: the first member back becomes host.
  saveState(api) {
    return { locked: api.state.locked, elapsedS: Math.floor((api.now() - api.state.startedAt) / 1000) };
  },

  loadState(api, saved) {
    const s = typeof saved === 'object' && saved !== null && !Array.isArray(saved) ? saved : {};
    api.state.locked = s.locked === true;
    api.state.startedAt = api.now() - (typeof s.elapsedS === 'number' ? s.elapsedS * 1000 : 0);
    // Restored furniture keeps its ids; a piece that did not survive is put back.
    const idOf = (kind: string, position: Vec3) => api.entities(kind)[0]?.id ?? api.spawn({ kind, position });
    api.state.boardId = idOf('whiteboard', BOARD_AT);
    api.state.doorId = idOf('door', DOOR_AT);
    api.state.clockId = idOf('clock', CLOCK_AT);
  },

  onJoin(api, member) {
    if (api.state.locked) return api.refuseJoin('The meeting is locked');
    if (api.state.hosts.size === 0) makeHost(api, member.clientId);
    return undefined;
  },

  onLeave(api, member) {
    api.state.hosts.delete(member.clientId);
    if (api.state.hosts.size > 0) return;
    const next = api.members().sort((a, b) => a.clientId - b.clientId)[0];
    if (next) makeHost(api, next.clientId);
  },

  onRequest(api, from, request) {
    // Taking the marker from the board is for everyone, unless a host locked the meeting.
    if (request.action === 'request' && request.entity.kind === 'whiteboard' && api.state.locked)
      return isHost(api, from) || 'The board is locked';
    return undefined;
  },

  onMessage(api, from, { type, payload }) {
    const p = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? payload : {};
    if (type === 'chat') {
      const text = typeof p.text === 'string' ? p.text.slice(0, 500) : '';
      api.broadcast('chat', { text }, { from: from.clientId });
      return;
    }
    if (!isHost(api, from)) {
      api.send(from.clientId, 'denied', { type, reason: 'Only hosts may do this' });
      return;
    }
    switch (type) {
      case 'door.open':
      case 'door.close':
        api.setEntity(api.state.doorId, { props: { open: type === 'door.open' } });
        return;
      case 'whiteboard.clear':
        api.revokeAuthority(api.state.boardId);
        api.setEntity(api.state.boardId, { props: { text: '' } });
        return;
      case 'host.promote':
        if (typeof p.clientId === 'number' && api.member(p.clientId)) makeHost(api, p.clientId);
        return;
      case 'meeting.lock':
        api.state.locked = p.locked === true;
        api.broadcast('meeting.locked', { locked: api.state.locked });
        return;
      default:
        api.send(from.clientId, 'denied', { type, reason: 'Unknown message type' });
    }
  },

  onTick(api) {
    const elapsedS = Math.floor((api.now() - api.state.startedAt) / 1000);
    const clock = api.entity(api.state.clockId);
    if (clock && clock.props.elapsedS !== elapsedS) api.setEntity(clock.id, { props: { elapsedS } });
  },
});

function isHost(api: Api, member: Member): boolean {
  return api.state.hosts.has(member.clientId);
}

function makeHost(api: Api, clientId: number): void {
  api.state.hosts.add(clientId);
  const m = api.member(clientId);
  // During onJoin the joiner is not a member yet: find its avatar through its own entity.
  const avatarId = m?.avatarId ?? api.entities('avatar').find((e) => e.owner === clientId)?.id;
  if (avatarId !== undefined) api.setEntity(avatarId, { props: { role: 'host' } });
  api.send(clientId, 'role', { role: 'host' });
}
