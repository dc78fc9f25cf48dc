import type { EntitySample, Playground, Vec3 } from '@plexus/client';
import {
  BoxGeometry,
  Color,
  Group,
  Mesh,
  MeshStandardMaterial,
  type Mesh as MeshType,
  type Object3D,
  type Scene,
  SphereGeometry,
} from 'three';
import { colourOf } from './avatar-model.ts';
import { NameTag } from './name-tag.ts';
import { holderName } from './shared-objects.ts';

const SIZE_M = 0.5;
/** A carried object floats at chest height; a put-down one rests on the ground. */
const CARRY_LIFT_M = 0.85;

const box = new BoxGeometry(SIZE_M, SIZE_M, SIZE_M);
const ball = new SphereGeometry(SIZE_M / 2, 24, 16);

/** What the test hook reads about one drawn object. */
export interface ObjectInfo {
  id: number;
  owner: number;
  /** The label as shown: `<label>`, or `<label> · held by <holder's name>`. */
  label: string;
  /** Where the object's centre is drawn. */
  position: Vec3;
}

interface ObjectView {
  info: ObjectInfo;
  root: Group;
  mesh: MeshType<BoxGeometry | SphereGeometry, MeshStandardMaterial>;
  tag: NameTag;
  colour: string;
  lift: number;
}

/** The shared objects: a box or ball each, coloured by its props, labelled with who holds it. */
export class ObjectLayer {
  private readonly views = new Map<number, ObjectView>();
  private readonly scene: Scene;
  private readonly seen = new Set<number>();

  constructor(scene: Scene) {
    this.scene = scene;
  }

  update(samples: readonly EntitySample[], pg: Playground | undefined, dt: number): void {
    this.seen.clear();
    for (const sample of samples) {
      if (sample.kind !== 'object') continue;
      this.seen.add(sample.id);
      const view = this.views.get(sample.id) ?? this.create(sample);
      const colour = typeof sample.props.color === 'string' ? sample.props.color : '#8899aa';
      if (colour !== view.colour) {
        view.colour = colour;
        view.mesh.material.color = safeColour(colour);
      }
      const held = sample.owner !== 0;
      const label =
        typeof sample.props.label === 'string' && sample.props.label ? sample.props.label : 'object';
      const holder =
        held && pg ? (sample.owner === pg.clientId ? 'you' : holderName(pg, sample.owner)) : undefined;
      const text = holder ? `${label} · held by ${holder}` : label;
      view.info.owner = sample.owner;
      view.info.label = text;
      view.tag.set(text, held ? colourOf(sample.owner) : '#c8ced8');
      view.mesh.material.emissive.set(held ? colourOf(sample.owner) : '#000000');
      view.mesh.material.emissiveIntensity = held ? 0.35 : 0;
      // Ease the lift so that a grab or a release does not jump.
      const targetLift = held ? CARRY_LIFT_M : 0;
      view.lift += (targetLift - view.lift) * Math.min(1, dt * 10);
      view.root.position.set(sample.position.x, sample.position.y + view.lift, sample.position.z);
      view.info.position = {
        x: view.root.position.x,
        y: view.root.position.y + SIZE_M / 2,
        z: view.root.position.z,
      };
      const r = sample.rotation;
      view.mesh.quaternion.set(r.x, r.y, r.z, r.w);
    }
    for (const [id, view] of this.views) {
      if (this.seen.has(id)) continue;
      this.scene.remove(view.root);
      view.tag.dispose();
      view.mesh.material.dispose();
      this.views.delete(id);
    }
  }

  /** Meshes to pick from with a click; each root's `userData.entityId` names its object. */
  pickables(): Object3D[] {
    return [...this.views.values()].map((v) => v.root);
  }

  list(): ObjectInfo[] {
    return [...this.views.values()].map((v) => ({ ...v.info, position: { ...v.info.position } }));
  }

  private create(sample: EntitySample): ObjectView {
    const root = new Group();
    root.userData.entityId = sample.id;
    const mesh = new Mesh(sample.props.shape === 'sphere' ? ball : box, objectMaterial());
    mesh.position.y = SIZE_M / 2;
    mesh.castShadow = true;
    mesh.receiveShadow = true;
    const tag = new NameTag('', '#c8ced8', 0.24);
    tag.sprite.position.y = SIZE_M + 0.3;
    root.add(mesh, tag.sprite);
    this.scene.add(root);
    const view: ObjectView = {
      info: { id: sample.id, owner: sample.owner, label: '', position: { ...sample.position } },
      root,
      mesh,
      tag,
      colour: '',
      lift: sample.owner !== 0 ? CARRY_LIFT_M : 0,
    };
    this.views.set(sample.id, view);
    return view;
  }
}

/** A mesh with an object's material, for compiling its shader ahead of time (WorldScene.warmUp). */
export function objectPrototype(): Object3D {
  return new Mesh(box, objectMaterial());
}

function objectMaterial(): MeshStandardMaterial {
  return new MeshStandardMaterial({ color: '#8899aa', roughness: 0.45, metalness: 0.05 });
}

/** A colour from props (any CSS colour string up to 16 characters); grey when three cannot parse it. */
function safeColour(value: string): Color {
  const colour = new Color('#8899aa');
  if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(value) || /^[a-z]{3,16}$/i.test(value)) colour.setStyle(value);
  return colour;
}
