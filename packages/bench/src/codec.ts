import { ByteWriter, type EntityUpdate, encodeState, type StateFrame } from '@plexus/protocol';
import { fmt, median } from './stats.ts';

export interface CodecResult {
  entities: number;
  binary: { bytes: number; framesPerSec: number };
  json: { bytes: number; framesPerSec: number };
}

/**
 * One tick's delta for `entities` moving avatars, encoded by the wire codec vs JSON.stringify of
 * the same data (the baseline a naive server would send). Rounds alternate between the two so that
 * machine noise hits both alike; the median of the rounds is reported.
 */
export function measureCodec(entities: number, rounds = 15, msPerRound = 200): CodecResult {
  const updates: EntityUpdate[] = Array.from({ length: entities }, (_, i) => ({
    id: i + 1,
    position: { x: Math.sin(i) * 40, y: 0, z: Math.cos(i) * 40 },
    rotation: { x: 0, y: Math.sin(i / 2), z: 0, w: Math.cos(i / 2) },
  }));
  const frame: StateFrame = { tick: 123456, keyframe: false, spawns: [], updates, removes: [] };
  const writer = new ByteWriter(64 * 1024);
  const binaryRates: number[] = [];
  const jsonRates: number[] = [];
  const run = (fn: () => void) => {
    let n = 0;
    const end = performance.now() + msPerRound;
    while (performance.now() < end) {
      for (let i = 0; i < 10; i++) fn();
      n += 10;
    }
    return n / (msPerRound / 1000);
  };
  for (let r = 0; r < rounds; r++) {
    binaryRates.push(run(() => encodeState(frame, writer)));
    jsonRates.push(run(() => JSON.stringify(frame)));
  }
  return {
    entities,
    binary: { bytes: encodeState(frame, writer).length, framesPerSec: median(binaryRates) },
    json: { bytes: Buffer.byteLength(JSON.stringify(frame)), framesPerSec: median(jsonRates) },
  };
}

export function codecTable(results: CodecResult[]): string {
  return [
    '| entities changed | wire bytes | JSON bytes | size ratio | wire frames/s | JSON frames/s | speed ratio |',
    '|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.entities} | ${r.binary.bytes} | ${r.json.bytes} | ${fmt(r.binary.bytes / r.json.bytes)} | ${fmt(r.binary.framesPerSec, 0)} | ${fmt(r.json.framesPerSec, 0)} | ${fmt(r.binary.framesPerSec / r.json.framesPerSec)}× |`,
    ),
  ].join('\n');
}
