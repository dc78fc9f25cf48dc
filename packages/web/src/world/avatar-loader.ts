import { Box3, type Group, LoadingManager, type Object3D, Vector3 } from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { clone } from 'three/examples/jsm/utils/SkeletonUtils.js';
import { AVATAR_HEIGHT_M } from './avatar-model.ts';
import { AvatarLoadError, type AvatarPolicy, readLimited } from './avatar-source.ts';

/** Distinct avatar files kept loaded; beyond, the oldest is forgotten (and fetched again if needed). */
const MAX_CACHED = 32;
const FETCH_TIMEOUT_MS = 15_000;

/**
 * Loads users' .glb avatars: only from allowed origins, at most `maxBytes`, once per URL. The
 * result is a fresh copy per avatar, scaled to AVATAR_HEIGHT_M with its feet at the origin.
 */
export class AvatarLoader {
  private readonly cache = new Map<string, Promise<Group>>();
  private readonly policy: AvatarPolicy;
  private readonly loader: GLTFLoader;

  constructor(policy: AvatarPolicy) {
    this.policy = policy;
    // A .glb may reference further files (textures); those must come from an allowed origin too.
    const manager = new LoadingManager();
    manager.setURLModifier((url) => {
      if (url.startsWith('data:') || url.startsWith('blob:')) return url;
      try {
        if (policy.origins.includes(new URL(url).origin)) return url;
      } catch {
        // not a URL: refused below
      }
      return 'data:,refused';
    });
    this.loader = new GLTFLoader(manager);
  }

  /** A new instance of the avatar at `url` (an allowed URL: see customAvatarUrl). */
  async instance(url: string): Promise<Object3D> {
    let template = this.cache.get(url);
    if (!template) {
      if (this.cache.size >= MAX_CACHED) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      template = this.load(url);
      this.cache.set(url, template);
      template.catch(() => this.cache.delete(url));
    }
    const copy = clone(await template);
    copy.traverse((node) => {
      node.castShadow = true;
    });
    return copy;
  }

  private async load(url: string): Promise<Group> {
    const response = await fetch(url, {
      credentials: 'omit',
      // A redirect could leave the allow-list.
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const bytes = await readLimited(response, this.policy.maxBytes);
    const gltf = await this.loader.parseAsync(bytes, new URL('.', url).href).catch((err: unknown) => {
      throw new AvatarLoadError(`not a usable glTF: ${err instanceof Error ? err.message : String(err)}`);
    });
    const model = gltf.scene;
    const box = new Box3().setFromObject(model);
    const size = box.getSize(new Vector3());
    if (!(size.y > 0) || !Number.isFinite(size.y)) throw new AvatarLoadError('the model is empty');
    const scale = AVATAR_HEIGHT_M / size.y;
    model.scale.setScalar(scale);
    const centre = box.getCenter(new Vector3());
    model.position.set(-centre.x * scale, -box.min.y * scale, -centre.z * scale);
    return model;
  }
}
