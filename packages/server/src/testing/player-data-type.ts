import { definePlaygroundType } from '../playground/playground-type.ts';

/**
 * A playground type for tests of player data: `score.add` adds one to the member's saved score and
 * answers `score`; `score.huge` tries to store more than PLAYER_DATA_MAX_BYTES (the hook fails).
 */
export default definePlaygroundType({
  name: 'player-data',
  onMessage(api, from, { type }) {
    if (type === 'score.add') {
      const score = Number(api.getPlayerData(from.clientId)?.score ?? 0) + 1;
      api.setPlayerData(from.clientId, { score });
      api.send(from.clientId, 'score', { score });
    } else if (type === 'score.huge') {
      api.setPlayerData(from.clientId, { blob: 'x'.repeat(32 * 1024) });
    }
  },
});
