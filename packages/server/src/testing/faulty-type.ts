import { definePlaygroundType } from '../playground/playground-type.ts';

/**
 * A playground type for tests whose logic fails on purpose: `throw` messages and every tick throw,
 * a `spin` entity turns on each tick, joins by anyone called "Mallory" are refused.
 */
export default definePlaygroundType<{ spinner: number; angle: number }>({
  name: 'faulty',
  state: () => ({ spinner: 0, angle: 0 }),
  kinds: { spin: { props: { turns: { type: 'number', integer: true, min: 0 } } } },
  onCreate(api) {
    api.state.spinner = api.spawn({ kind: 'spin', position: { x: 1, y: 0, z: 1 }, props: { turns: 0 } });
  },
  onJoin(api, member) {
    return member.displayName.startsWith('Mallory') ? api.refuseJoin('No Mallory allowed') : undefined;
  },
  onMessage(api, from, { type, payload }) {
    if (type === 'throw') throw new Error('logic failed on purpose');
    api.send(from.clientId, 'echo', payload);
  },
  onTick(api, { tick }) {
    api.state.angle += 0.1;
    const half = api.state.angle / 2;
    api.setEntity(api.state.spinner, {
      rotation: { x: 0, y: Math.sin(half), z: 0, w: Math.cos(half) },
      props: { turns: tick },
    });
    if (tick % 2 === 0) throw new Error('tick failed on purpose');
  },
});
