import {
  BoxGeometry,
  CapsuleGeometry,
  Color,
  CylinderGeometry,
  Group,
  Mesh,
  MeshStandardMaterial,
  SphereGeometry,
} from 'three';
import { mergeGeometries } from 'three/examples/jsm/utils/BufferGeometryUtils.js';

/** Height of the default avatar (and what a loaded .glb is scaled to), metres. */
export const AVATAR_HEIGHT_M = 1.75;

/**
 * Shared by every default avatar, and merged per material: an avatar is two meshes (its coloured
 * body and head, its dark visor and feet), so 100 avatars cost about 300 draw calls with shadows.
 */
const geometry = {
  body: mergeGeometries([
    new CapsuleGeometry(0.28, 0.62, 6, 16).translate(0, 0.12 + 0.28 + 0.31, 0),
    new SphereGeometry(0.22, 24, 16).translate(0, 1.46, 0),
  ]),
  trim: mergeGeometries([
    new BoxGeometry(0.3, 0.1, 0.12).translate(0, 1.49, -0.16),
    new CylinderGeometry(0.11, 0.12, 0.12, 12).translate(-0.13, 0.06, -0.04),
    new CylinderGeometry(0.11, 0.12, 0.12, 12).translate(0.13, 0.06, -0.04),
  ]),
};
const trimMaterial = new MeshStandardMaterial({ color: '#1d2430', roughness: 0.4, metalness: 0.3 });
/** One body material per colour, shared by avatars of that colour. */
const bodyMaterials = new Map<string, MeshStandardMaterial>();
const MAX_MATERIALS = 256;

/** A stable, pleasant colour per owner (the same as the minimap and people list use). */
export function colourOf(n: number): string {
  const hue = (n * 137.508) % 360;
  return `hsl(${hue.toFixed(0)}, 62%, 58%)`;
}

function bodyMaterial(colour: string): MeshStandardMaterial {
  let material = bodyMaterials.get(colour);
  if (!material) {
    if (bodyMaterials.size >= MAX_MATERIALS) bodyMaterials.clear();
    material = new MeshStandardMaterial({ color: new Color(colour), roughness: 0.55 });
    bodyMaterials.set(colour, material);
  }
  return material;
}

/**
 * The default avatar, built from primitives: a capsule body, a head, a dark visor on the face (so
 * the facing shows: forward is -z, as the SDK's rotations mean it), two feet. Origin at the feet.
 */
export function defaultAvatar(colour: string): Group {
  const group = new Group();
  const body = new Mesh(geometry.body, bodyMaterial(colour));
  // The trim is too small to matter in the shadow; skipping it saves a draw call per avatar.
  body.castShadow = true;
  group.add(body, new Mesh(geometry.trim, trimMaterial));
  group.name = 'default-avatar';
  return group;
}
