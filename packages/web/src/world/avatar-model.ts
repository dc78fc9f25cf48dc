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

/** Height of the default avatar (and what a loaded .glb is scaled to), metres. */
export const AVATAR_HEIGHT_M = 1.75;

// Shared by every default avatar: 100 avatars cost 100 × 5 meshes, not 500 geometries.
const geometry = {
  body: new CapsuleGeometry(0.28, 0.62, 6, 16),
  head: new SphereGeometry(0.22, 24, 16),
  visor: new BoxGeometry(0.3, 0.1, 0.12),
  foot: new CylinderGeometry(0.11, 0.12, 0.12, 12),
};
const visorMaterial = new MeshStandardMaterial({ color: '#1d2430', roughness: 0.25, metalness: 0.4 });
const footMaterial = new MeshStandardMaterial({ color: '#2b313c', roughness: 0.8 });
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
  const material = bodyMaterial(colour);
  const body = new Mesh(geometry.body, material);
  body.position.y = 0.12 + 0.28 + 0.31;
  const head = new Mesh(geometry.head, material);
  head.position.y = 1.46;
  const visor = new Mesh(geometry.visor, visorMaterial);
  visor.position.set(0, 1.49, -0.16);
  const left = new Mesh(geometry.foot, footMaterial);
  left.position.set(-0.13, 0.06, -0.04);
  const right = new Mesh(geometry.foot, footMaterial);
  right.position.set(0.13, 0.06, -0.04);
  for (const mesh of [body, head, visor, left, right]) {
    mesh.castShadow = true;
    group.add(mesh);
  }
  group.name = 'default-avatar';
  return group;
}
