import type { PlayerRecord, Quat, Vec3 } from '@plexus/protocol';
import { normaliseRotation, positionInBounds } from './transform-rules.ts';

const IDENTITY: Quat = { x: 0, y: 0, z: 0, w: 1 };

/** A random place on the ground within `radiusM` of the origin (a fresh avatar's). */
export function randomPlace(random: () => number, radiusM: number): { position: Vec3; rotation: Quat } {
  const angle = random() * 2 * Math.PI;
  const radius = Math.sqrt(random()) * radiusM;
  return {
    position: { x: Math.cos(angle) * radius, y: 0, z: Math.sin(angle) * radius },
    rotation: IDENTITY,
  };
}

/** Where a returning user's record puts their avatar, when it holds a valid transform. */
export function spawnPlace(record: PlayerRecord | null): { position: Vec3; rotation: Quat } | null {
  if (!record?.position || !positionInBounds(record.position)) return null;
  const rotation = record.rotation ? normaliseRotation(record.rotation) : IDENTITY;
  return { position: record.position, rotation: rotation ?? IDENTITY };
}
