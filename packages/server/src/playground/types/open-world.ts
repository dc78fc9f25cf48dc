import { definePlaygroundType } from '../playground-type.ts';

/** Most `object`s one client may have alive at once in an open world. */
export const OPEN_WORLD_OBJECTS_PER_CLIENT = 16;

/**
 * The default playground type: avatars, plus up to 16 generic `object` entities per client that
 * anyone may grab while nobody holds them, and custom messages relayed to everyone else.
 * Objects a client spawned outlive it, server-owned (anyone may grab and then despawn them).
 */
export default definePlaygroundType({
  name: 'open-world',
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
    api.broadcast(message.type, message.payload, { from: from.clientId, except: from.clientId });
  },
});
