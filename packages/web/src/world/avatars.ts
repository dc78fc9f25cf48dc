import type { EntitySample, Quat, Vec3 } from '@plexus/client';
import { Group, type Object3D, type Scene, Vector3 } from 'three';
import type { AvatarLoader } from './avatar-loader.ts';
import { AVATAR_HEIGHT_M, colourOf, defaultAvatar } from './avatar-model.ts';
import { type AvatarPolicy, customAvatarUrl } from './avatar-source.ts';
import { NameTag } from './name-tag.ts';

/** Beyond this distance from the camera a name tag is hidden (it would be an unreadable speck). */
const TAG_RANGE_M = 40;

/** What the test hook and the HUD read about one drawn avatar. */
export interface AvatarInfo {
  id: number;
  owner: number;
  /** The name tag's text: the avatar's `displayName` (an anonymous one for incognito users). */
  name: string;
  colour: string;
  self: boolean;
  position: Vec3;
  /** `custom` once a user's .glb replaced the default model. */
  model: 'default' | 'custom';
  modelError?: string;
}

interface AvatarView {
  info: AvatarInfo;
  root: Group;
  model: Object3D;
  tag: NameTag;
  customUrl?: string | undefined;
  /** Walking bob phase, radians. */
  phase: number;
  last: Vector3;
}

/** One 3D avatar per `avatar` entity of the playground, moved from `pg.sample(now)` every frame. */
export class AvatarLayer {
  private readonly views = new Map<number, AvatarView>();
  private readonly scene: Scene;
  private readonly policy: AvatarPolicy;
  private readonly loader: AvatarLoader | undefined;
  private readonly seen = new Set<number>();

  constructor(scene: Scene, policy: AvatarPolicy, loader: AvatarLoader | undefined) {
    this.scene = scene;
    this.policy = policy;
    this.loader = loader;
  }

  /**
   * Draws this frame's avatars: `samples` as the SDK interpolated them, the own one (`selfId`) at
   * `self`, the locally moved transform, so that it never lags the keyboard.
   */
  update(
    samples: readonly EntitySample[],
    selfId: number,
    self: { position: Vec3; rotation: Quat } | undefined,
    camera: Vector3,
    dt: number,
  ): void {
    this.seen.clear();
    for (const sample of samples) {
      if (sample.kind !== 'avatar') continue;
      this.seen.add(sample.id);
      const isSelf = sample.id === selfId;
      const view = this.views.get(sample.id) ?? this.create(sample);
      const name = nameOf(sample);
      view.info.self = isSelf;
      view.info.owner = sample.owner;
      if (view.info.name !== name) {
        view.info.name = name;
        view.tag.set(name);
      }
      const transform = isSelf && self ? self : sample;
      view.root.position.set(transform.position.x, transform.position.y, transform.position.z);
      const r = transform.rotation;
      view.root.quaternion.set(r.x, r.y, r.z, r.w);
      view.info.position = { ...transform.position };
      this.animate(view, dt);
      // The own tag would sit in the middle of the view; the people list names the user instead.
      view.tag.sprite.visible = !isSelf && view.root.position.distanceTo(camera) < TAG_RANGE_M;
      this.ensureModel(view, sample.props);
    }
    for (const [id, view] of this.views) {
      if (this.seen.has(id)) continue;
      this.scene.remove(view.root);
      view.tag.dispose();
      this.views.delete(id);
    }
  }

  /** The avatars drawn in the last frame. */
  list(): AvatarInfo[] {
    return [...this.views.values()].map((v) => ({ ...v.info, position: { ...v.info.position } }));
  }

  get size(): number {
    return this.views.size;
  }

  private create(sample: EntitySample): AvatarView {
    const colour = colourOf(sample.owner || sample.id);
    const root = new Group();
    const model = defaultAvatar(colour);
    const name = nameOf(sample);
    const tag = new NameTag(name, colour);
    tag.sprite.position.y = AVATAR_HEIGHT_M + 0.32;
    root.add(model, tag.sprite);
    this.scene.add(root);
    const view: AvatarView = {
      info: {
        id: sample.id,
        owner: sample.owner,
        name,
        colour,
        self: false,
        position: { ...sample.position },
        model: 'default',
      },
      root,
      model,
      tag,
      phase: 0,
      last: new Vector3(sample.position.x, sample.position.y, sample.position.z),
    };
    this.views.set(sample.id, view);
    return view;
  }

  /** A small bob and sway while the avatar moves, so that walking reads as walking. */
  private animate(view: AvatarView, dt: number): void {
    const moved = view.root.position.distanceTo(view.last);
    view.last.copy(view.root.position);
    const speed = dt > 0 ? moved / dt : 0;
    if (speed > 0.3 && speed < 20) view.phase += dt * 10;
    else view.phase *= 0.8;
    view.model.position.y = Math.abs(Math.sin(view.phase)) * 0.06;
    view.model.rotation.z = Math.sin(view.phase) * 0.05;
  }

  /** Swaps in the user's .glb when its origin is allowed; keeps the default model on any failure. */
  private ensureModel(view: AvatarView, props: EntitySample['props']): void {
    if (!this.loader) return;
    const url = customAvatarUrl(props, this.policy);
    if (url === view.customUrl) return;
    view.customUrl = url;
    if (!url) return;
    this.loader.instance(url).then(
      (model) => {
        if (this.views.get(view.info.id) !== view || view.customUrl !== url) return;
        view.root.remove(view.model);
        view.model = model;
        view.root.add(model);
        view.info.model = 'custom';
        delete view.info.modelError;
      },
      (err: unknown) => {
        view.info.modelError = err instanceof Error ? err.message : String(err);
      },
    );
  }
}

/** The name shown for an avatar: its `displayName` (the server sends an anonymous one for incognito users). */
export function nameOf(entity: { id: number; props: { readonly [key: string]: unknown } }): string {
  const name = entity.props.displayName;
  return typeof name === 'string' && name.length > 0 ? name : `#${entity.id}`;
}
