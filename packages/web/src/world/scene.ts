import {
  ACESFilmicToneMapping,
  CanvasTexture,
  CircleGeometry,
  Color,
  ConeGeometry,
  CylinderGeometry,
  DirectionalLight,
  DodecahedronGeometry,
  Fog,
  HemisphereLight,
  InstancedMesh,
  Matrix4,
  Mesh,
  MeshStandardMaterial,
  Object3D,
  PCFShadowMap,
  PerspectiveCamera,
  PlaneGeometry,
  Quaternion,
  Raycaster,
  RepeatWrapping,
  RingGeometry,
  Scene,
  SRGBColorSpace,
  Vector2,
  Vector3,
  WebGLRenderer,
} from 'three';

const SKY = '#a9cbe8';
const GROUND_SIZE_M = 600;
/** Half the side of the square the sun's shadow covers around the own avatar, metres. */
const SHADOW_HALF_M = 24;
/** Lowest fraction of the device pixel ratio the adaptive resolution goes down to. */
const MIN_RESOLUTION = 0.25;
/** Frames averaged before the resolution is adapted. */
const ADAPT_FRAMES = 30;

/**
 * The 3D stage of the world page: renderer, camera, sky, sun with shadows, a textured ground and a
 * little scenery (instanced, so it costs a few draw calls). Avatars and objects are added by their
 * layers (avatars.ts, object-layer.ts).
 */
export class WorldScene {
  readonly scene = new Scene();
  readonly camera = new PerspectiveCamera(55, 1, 0.1, 400);
  readonly renderer: WebGLRenderer;
  private readonly sun = new DirectionalLight('#fff4e0', 2.4);
  private readonly raycaster = new Raycaster();
  private readonly pointer = new Vector2();
  /** Fraction of the device pixel ratio drawn; lowered while frames are slow (see adapt). */
  private resolution = 1;
  private readonly adaptive: boolean;
  private intervalSum = 0;
  private intervals = 0;

  /** `adaptive` false keeps the full resolution however slow frames are (screenshots). */
  constructor(canvas: HTMLCanvasElement, adaptive = true) {
    this.adaptive = adaptive;
    this.renderer = new WebGLRenderer({ canvas, antialias: true, powerPreference: 'high-performance' });
    // A CPU renderer (SwiftShader in headless browsers, llvmpipe) cannot afford full resolution:
    // start it lower rather than wait for the adaptation to find out.
    if (adaptive && isSoftwareRenderer(this.renderer.getContext())) this.resolution = 0.5;
    this.renderer.outputColorSpace = SRGBColorSpace;
    this.renderer.toneMapping = ACESFilmicToneMapping;
    this.renderer.shadowMap.enabled = true;
    this.renderer.shadowMap.type = PCFShadowMap;

    this.scene.background = new Color(SKY);
    this.scene.fog = new Fog(SKY, 45, 160);
    this.scene.add(new HemisphereLight('#dcecff', '#6b7a5a', 1.1));
    this.sun.position.set(12, 22, 8);
    this.sun.castShadow = true;
    this.sun.shadow.mapSize.set(1024, 1024);
    const shadowCamera = this.sun.shadow.camera;
    shadowCamera.left = -SHADOW_HALF_M;
    shadowCamera.right = SHADOW_HALF_M;
    shadowCamera.top = SHADOW_HALF_M;
    shadowCamera.bottom = -SHADOW_HALF_M;
    shadowCamera.near = 1;
    shadowCamera.far = 80;
    this.sun.shadow.bias = -0.0005;
    this.sun.shadow.normalBias = 0.02;
    this.scene.add(this.sun, this.sun.target);
    this.scene.add(ground(this.renderer.capabilities.getMaxAnisotropy()), plaza(), ...scenery());
  }

  /** Matches the drawing buffer to the window. */
  resize(): void {
    const width = window.innerWidth;
    const height = window.innerHeight;
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2) * this.resolution);
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / Math.max(1, height);
    this.camera.updateProjectionMatrix();
  }

  /** Keeps the sun's shadow box centred on `focus` (the own avatar), so shadows stay sharp nearby. */
  follow(focus: { x: number; y: number; z: number }): void {
    this.sun.position.set(focus.x + 12, 22, focus.z + 8);
    this.sun.target.position.set(focus.x, focus.y, focus.z);
  }

  render(): void {
    this.renderer.render(this.scene, this.camera);
  }

  /** The fraction of the device pixel ratio currently drawn. */
  get resolutionScale(): number {
    return this.resolution;
  }

  /**
   * Dynamic resolution: when frames come slower than ~25/s (a weak GPU, a software renderer), draw
   * fewer pixels; when they are fast again, draw more. Fill rate is what a slow GPU runs out of;
   * the scene itself is a few hundred draw calls at most.
   */
  adapt(frameIntervalMs: number): void {
    if (!this.adaptive || !(frameIntervalMs > 0)) return;
    this.intervalSum += frameIntervalMs;
    // Every ADAPT_FRAMES frames, or every second when frames are that slow.
    if (++this.intervals < ADAPT_FRAMES && this.intervalSum < 1000) return;
    const mean = this.intervalSum / this.intervals;
    this.intervalSum = 0;
    this.intervals = 0;
    const before = this.resolution;
    if (mean > 40) this.resolution = Math.max(MIN_RESOLUTION, this.resolution * 0.75);
    else if (mean < 20) this.resolution = Math.min(1, this.resolution * 1.15);
    if (this.resolution !== before) this.resize();
  }

  /**
   * Compiles the shaders of the scene and of `extras` (an avatar, a tag, an object: what arrives
   * once joined) without blocking the page, so that joining does not stall on the first frame.
   */
  async warmUp(extras: readonly Object3D[]): Promise<void> {
    this.scene.add(...extras);
    try {
      await this.renderer.compileAsync(this.scene, this.camera);
    } finally {
      this.scene.remove(...extras);
    }
  }

  /** Where a world point appears on the page (CSS pixels), as of the last frame's camera. */
  toScreen(point: { x: number; y: number; z: number }): { x: number; y: number } {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const p = new Vector3(point.x, point.y, point.z).project(this.camera);
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
  }

  /** The first of `targets` (or their descendants) under a client pixel, with the hit's root object. */
  pick(clientX: number, clientY: number, targets: readonly Object3D[]): Object3D | undefined {
    const rect = this.renderer.domElement.getBoundingClientRect();
    this.pointer.set(
      ((clientX - rect.left) / rect.width) * 2 - 1,
      -((clientY - rect.top) / rect.height) * 2 + 1,
    );
    this.raycaster.setFromCamera(this.pointer, this.camera);
    const hit = this.raycaster.intersectObjects(targets as Object3D[], true)[0];
    let node: Object3D | null = hit?.object ?? null;
    while (node && !targets.includes(node)) node = node.parent;
    return node ?? undefined;
  }
}

/** True when WebGL runs on the CPU (the renderer's name, where the browser tells it). */
function isSoftwareRenderer(gl: WebGLRenderingContext | WebGL2RenderingContext): boolean {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
}

/** A soft grass-coloured ground with a 1 m grid, drawn once into a repeating texture. */
function ground(anisotropy: number): Mesh {
  const size = 256;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  if (ctx) {
    ctx.fillStyle = '#8fb07e';
    ctx.fillRect(0, 0, size, size);
    // Speckles so that the ground reads as a surface, not a flat colour.
    const random = seededRandom(7);
    for (let i = 0; i < 1400; i++) {
      ctx.fillStyle = random() < 0.5 ? '#86a874' : '#98b987';
      ctx.fillRect(random() * size, random() * size, 2, 2);
    }
    // The texture spans 4 m: thin lines every metre, a stronger one every 4 m.
    ctx.fillStyle = '#7d9c6e';
    for (let i = 1; i < 4; i++) {
      ctx.fillRect((i * size) / 4, 0, 1, size);
      ctx.fillRect(0, (i * size) / 4, size, 1);
    }
    ctx.fillStyle = '#6f8c61';
    ctx.fillRect(0, 0, 2, size);
    ctx.fillRect(0, 0, size, 2);
  }
  const texture = new CanvasTexture(canvas);
  texture.colorSpace = SRGBColorSpace;
  texture.wrapS = RepeatWrapping;
  texture.wrapT = RepeatWrapping;
  texture.repeat.set(GROUND_SIZE_M / 4, GROUND_SIZE_M / 4);
  texture.anisotropy = Math.min(4, anisotropy);
  const mesh = new Mesh(
    new PlaneGeometry(GROUND_SIZE_M, GROUND_SIZE_M),
    new MeshStandardMaterial({ map: texture, roughness: 1 }),
  );
  mesh.rotation.x = -Math.PI / 2;
  mesh.receiveShadow = true;
  return mesh;
}

/** A paved circle around the origin, where people arrive. */
function plaza(): Object3D {
  const group = new Object3D();
  const stone = new Mesh(new CircleGeometry(7, 64), paving('#d8d2c4'));
  stone.rotation.x = -Math.PI / 2;
  stone.position.y = 0.02;
  stone.receiveShadow = true;
  const ring = new Mesh(new RingGeometry(6.6, 7, 64), paving('#b7ad98'));
  ring.rotation.x = -Math.PI / 2;
  ring.position.y = 0.03;
  ring.receiveShadow = true;
  group.add(stone, ring);
  return group;
}

/** A flat material drawn over the ground: pulled towards the camera so it never flickers through. */
function paving(color: string): MeshStandardMaterial {
  return new MeshStandardMaterial({
    color,
    roughness: 0.9,
    polygonOffset: true,
    polygonOffsetFactor: -2,
    polygonOffsetUnits: -2,
  });
}

/** Trees and rocks on a ring outside the plaza, placed by a fixed seed (the same for everyone). */
function scenery(): Object3D[] {
  const trees = 90;
  const rocks = 40;
  const trunk = new InstancedMesh(
    new CylinderGeometry(0.18, 0.25, 1.6, 7),
    new MeshStandardMaterial({ color: '#7a5a3c', roughness: 1 }),
    trees,
  );
  const crown = new InstancedMesh(
    new ConeGeometry(1.3, 3.2, 8),
    new MeshStandardMaterial({ color: '#4f7d4a', roughness: 0.95, flatShading: true }),
    trees,
  );
  const stone = new InstancedMesh(
    new DodecahedronGeometry(0.7, 0),
    new MeshStandardMaterial({ color: '#9a9a92', roughness: 1, flatShading: true }),
    rocks,
  );
  const random = seededRandom(42);
  const m = new Matrix4();
  const q = new Quaternion();
  const p = new Vector3();
  const s = new Vector3();
  const up = new Vector3(0, 1, 0);
  /** A random spot on the ring between `inner` and `inner + width` metres, turned at random. */
  const place = (inner: number, width: number): void => {
    const angle = random() * Math.PI * 2;
    const radius = inner + random() * width;
    p.set(Math.cos(angle) * radius, 0, Math.sin(angle) * radius);
    q.setFromAxisAngle(up, random() * Math.PI);
  };
  for (let i = 0; i < trees; i++) {
    place(16, 60);
    const scale = 0.8 + random() * 0.7;
    p.y = 0.8 * scale;
    trunk.setMatrixAt(i, m.compose(p, q, s.set(scale, scale, scale)));
    p.y = (1.6 + 1.4) * scale;
    crown.setMatrixAt(i, m.compose(p, q, s));
  }
  for (let i = 0; i < rocks; i++) {
    place(10, 50);
    const scale = 0.4 + random() * 0.9;
    p.y = 0.2 * scale;
    stone.setMatrixAt(i, m.compose(p, q, s.set(scale, scale * 0.6, scale)));
  }
  for (const mesh of [trunk, crown, stone]) {
    mesh.castShadow = true;
    mesh.receiveShadow = true;
  }
  return [trunk, crown, stone];
}

/** A deterministic pseudo-random sequence in [0, 1) (Park–Miller): the same scenery for everyone. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}
