import { hasUnsafeDisplayChars, type JsonValue, UNSAFE_DISPLAY_MESSAGE } from '@plexus/protocol';
import { definePlaygroundType, type Member, type PlaygroundApi } from '../playground-type.ts';

/** Most `object`s one client may have alive at once in an open world. */
export const OPEN_WORLD_OBJECTS_PER_CLIENT = 16;

/** MESSAGE type of a private message to a user wherever they are (an EVENT of type `whisper`). */
export const WHISPER = 'whisper';
/** Longest whispered text, characters. */
export const WHISPER_MAX_CHARS = 500;
const USER_ID_MAX = 128;
/** Whispers one client may send per window (each is a backend write). */
const WHISPERS_PER_WINDOW = 10;
const WHISPER_WINDOW_MS = 10_000;

interface OpenWorldState {
  /** clientId → whispers sent in the current window. */
  whispers: Map<number, { since: number; count: number }>;
}

/**
 * The default playground type: avatars, plus up to 16 generic `object` entities per client that
 * anyone may grab while nobody holds them, and custom messages relayed to everyone else — except
 * `whisper` `{ toUserId, text }`, published through the backend to that user in whatever playground
 * and server they are (an EVENT `whisper` `{ text, fromName }`); the sender gets a MESSAGE
 * `whisper.sent` `{ toUserId, delivery }` or `whisper.failed` `{ toUserId, reason }`.
 * Objects a client spawned outlive it, server-owned (anyone may grab and then despawn them).
 */
export default definePlaygroundType<OpenWorldState>({
  name: 'open-world',
  state: () => ({ whispers: new Map() }),
  kinds: {
    object: {
      props: {
        color: { type: 'string', maxLength: 16, default: '#8899aa' },
        label: { type: 'string', maxLength: 32, default: '' },
        shape: { type: 'enum', values: ['box', 'sphere'], default: 'box' },
      },
      clientSpawn: { maxPerClient: OPEN_WORLD_OBJECTS_PER_CLIENT, maxTotal: 1024 },
      grabbable: true,
      maxUpdatesPerSec: 60,
    },
  },
  onMessage(api, from, message) {
    if (message.type === WHISPER) {
      whisper(api, from, message.payload);
      return;
    }
    api.broadcast(message.type, message.payload, { from: from.clientId, except: from.clientId });
  },
  onLeave(api, member) {
    api.state.whispers.delete(member.clientId);
  },
});

function whisper(api: PlaygroundApi<OpenWorldState>, from: Member, payload: JsonValue): void {
  const p = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? payload : {};
  const toUserId = typeof p.toUserId === 'string' ? p.toUserId : '';
  const text = typeof p.text === 'string' ? p.text : '';
  const failed = (reason: string) => api.send(from.clientId, 'whisper.failed', { toUserId, reason });
  if (toUserId.length === 0 || toUserId.length > USER_ID_MAX) {
    failed('toUserId must be a user id');
    return;
  }
  if (text.length === 0 || text.length > WHISPER_MAX_CHARS) {
    failed(`text must be 1–${WHISPER_MAX_CHARS} characters`);
    return;
  }
  if (hasUnsafeDisplayChars(text)) {
    failed(`text ${UNSAFE_DISPLAY_MESSAGE}`);
    return;
  }
  const now = api.now();
  const window = api.state.whispers.get(from.clientId);
  if (!window || now - window.since >= WHISPER_WINDOW_MS) {
    api.state.whispers.set(from.clientId, { since: now, count: 1 });
  } else if (++window.count > WHISPERS_PER_WINDOW) {
    failed('too many whispers; wait a little');
    return;
  }
  void api
    .publishEvent(
      { userId: toUserId },
      WHISPER,
      { text, fromName: from.displayName },
      { fromClientId: from.clientId },
    )
    .then((result) => {
      // The sender may have left meanwhile; sending to a gone client is a no-op.
      if (result) api.send(from.clientId, 'whisper.sent', { toUserId, delivery: result.delivery });
      else failed('the message could not be sent');
    })
    .catch((err: unknown) => api.log.warn({ err }, 'whisper: the reply could not be sent'));
}
