/**
 * The Plexus world page: join a playground as a guest and walk around a shared 3D space (three.js)
 * with the others; spawn shared objects, grab one (click it, or E near it), carry it, put it down;
 * chat. Served by the balancer, so the SDK talks to `location.origin`. docs/operations.md, "The
 * world page", describes it.
 *
 * Test hooks: #name, #playground, #incognito, #join, #connection, #spawn, #notice, #chat-input;
 * `window.__plexusWorld` (world/test-hook.ts: avatars and objects as drawn, the indicator, frame
 * stats); `window.plexusDemo.playground` and `.objects` once joined;
 * `document.body.dataset.state` ∈ idle | joining | joined | reconnecting | disconnected;
 * `document.body.dataset.held` = id of the object the page holds (absent when none).
 */
import {
  type DisconnectInfo,
  type OpenWorldKinds,
  type Playground,
  PlexusClient,
  PlexusError,
  type Quat,
  type Vec3,
} from '@plexus/client';
import { AvatarLoader } from './world/avatar-loader.ts';
import { defaultAvatar } from './world/avatar-model.ts';
import { AvatarLayer, nameOf } from './world/avatars.ts';
import { CameraRig } from './world/camera-rig.ts';
import { Chat } from './world/chat.ts';
import { isTyping, Keyboard, TouchStick, worldDirection } from './world/controls.ts';
import { ConnectionIndicator, Minimap, PeopleList } from './world/hud.ts';
import { NameTag } from './world/name-tag.ts';
import { ObjectLayer, objectPrototype } from './world/object-layer.ts';
import { WorldScene } from './world/scene.ts';
import { SharedObjects } from './world/shared-objects.ts';
import { FrameMeter, installWorldHook } from './world/test-hook.ts';
import { loadAvatarPolicy } from './world/web-config.ts';

declare global {
  interface Window {
    plexusDemo?: { playground: Playground<OpenWorldKinds>; objects: SharedObjects };
  }
}

type PageState = 'idle' | 'joining' | 'joined' | 'reconnecting' | 'disconnected';

const SPEED_MPS = 5;
/** At most 20 MOVE frames per second (the server allows 60/s sustained). */
const MOVE_INTERVAL_MS = 50;
/** The people list, minimap and indicator refresh at this pace, not every frame. */
const HUD_INTERVAL_MS = 100;
const NOTICE_MS = 2500;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

const ui = {
  form: byId<HTMLFormElement>('join-form'),
  name: byId<HTMLInputElement>('name'),
  playground: byId<HTMLInputElement>('playground'),
  incognito: byId<HTMLInputElement>('incognito'),
  join: byId<HTMLButtonElement>('join'),
  joinError: byId<HTMLElement>('join-error'),
  connection: byId<HTMLElement>('connection'),
  leave: byId<HTMLButtonElement>('leave'),
  spawn: byId<HTMLButtonElement>('spawn'),
  notice: byId<HTMLElement>('notice'),
  reason: byId<HTMLElement>('disconnect-reason'),
  rejoin: byId<HTMLButtonElement>('rejoin'),
  back: byId<HTMLButtonElement>('back'),
  canvas: byId<HTMLCanvasElement>('view'),
};

performance.mark('plexus-world-start');
// Fetched while the scene is being built.
const policyLoading = loadAvatarPolicy(location.origin);
const client = new PlexusClient({ balancerUrl: location.origin });
/** `?resolution=fixed` turns the dynamic resolution off (the screenshot script uses it). */
const world = new WorldScene(ui.canvas, new URLSearchParams(location.search).get('resolution') !== 'fixed');
performance.mark('plexus-world-scene');
const policy = await policyLoading;
const avatars = new AvatarLayer(
  world.scene,
  policy,
  policy.origins.length > 0 ? new AvatarLoader(policy) : undefined,
);
const objectLayer = new ObjectLayer(world.scene);
const rig = new CameraRig(world.camera);
const keyboard = new Keyboard();
const stick = new TouchStick();
const indicator = new ConnectionIndicator(ui.connection);
const people = new PeopleList(byId('people-title'), byId('people-list'));
const minimap = new Minimap(byId<HTMLCanvasElement>('minimap'));
const chat = new Chat(
  byId('chat-log'),
  byId<HTMLFormElement>('chat-form'),
  byId<HTMLInputElement>('chat-input'),
  showNotice,
);
const meter = new FrameMeter();
keyboard.attach(window);
stick.attach(byId('stick'));
rig.attach(ui.canvas, (x, y) => onClick(x, y));

/** The joined playground and the locally simulated own transform. */
let session:
  | {
      pg: Playground<OpenWorldKinds>;
      objects: SharedObjects;
      position: Vec3;
      rotation: Quat;
      lastSentMs: number;
      dirty: boolean;
      leaving: boolean;
    }
  | undefined;
let lastJoin: { name: string; playgroundId: string; incognito: boolean } | undefined;
let lastFrameMs: number | undefined;
let lastHudMs = 0;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

function setState(state: PageState): void {
  document.body.dataset.state = state;
}

// ---------------------------------------------------------------- join / leave

ui.name.value = localStorage.getItem('plexus.name') ?? '';
ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = ui.name.value.trim();
  if (!name) {
    ui.joinError.textContent = 'Please enter a name.';
    ui.name.focus();
    return;
  }
  localStorage.setItem('plexus.name', name);
  void join(
    { name, playgroundId: ui.playground.value.trim() || 'lobby', incognito: ui.incognito.checked },
    true,
  );
});

ui.leave.addEventListener('click', () => void leave());
ui.spawn.addEventListener('click', () => {
  if (session) void session.objects.spawn(session.position, session.rotation);
  ui.canvas.focus();
});
window.addEventListener('keydown', (event) => {
  if (!session || event.repeat || isTyping(event)) return;
  const current = session;
  if (event.code === 'KeyE') {
    const target = current.objects.held ?? current.objects.nearest(current.position)?.id;
    if (target !== undefined) void current.objects.toggle(target);
  } else if (event.code === 'Enter' || event.code === 'KeyT') {
    event.preventDefault();
    chat.focus();
  }
});
ui.rejoin.addEventListener('click', () => {
  if (lastJoin) void join(lastJoin, false);
});
ui.back.addEventListener('click', () => {
  ui.joinError.textContent = '';
  setState('idle');
});

/** A click that did not drag the camera: grab the object under it, or put down the held one. */
function onClick(x: number, y: number): void {
  if (!session) return;
  const hit = world.pick(x, y, objectLayer.pickables());
  const id = hit?.userData.entityId;
  if (typeof id === 'number') void session.objects.toggle(id);
  else if (session.objects.held !== undefined) void session.objects.release();
}

async function join(request: NonNullable<typeof lastJoin>, freshLogin: boolean): Promise<void> {
  lastJoin = request;
  setState('joining');
  ui.join.disabled = true;
  ui.rejoin.disabled = true;
  ui.joinError.textContent = '';
  try {
    if (freshLogin || !client.loggedIn) await login(request);
    let pg: Playground<OpenWorldKinds>;
    try {
      pg = await client.join<OpenWorldKinds>({ playgroundId: request.playgroundId });
    } catch (err) {
      // The guest session may have expired since the last join: log in again once.
      if (!(err instanceof PlexusError && err.is('AUTH_INVALID_SESSION'))) throw err;
      await login(request);
      pg = await client.join<OpenWorldKinds>({ playgroundId: request.playgroundId });
    }
    adopt(pg);
  } catch (err) {
    ui.joinError.textContent = describe(err);
    setState('idle');
  } finally {
    ui.join.disabled = false;
    ui.rejoin.disabled = false;
  }
}

async function login(request: NonNullable<typeof lastJoin>): Promise<void> {
  const [firstName = request.name, ...rest] = request.name.split(/\s+/);
  await client.loginAsGuest(rest.length > 0 ? { firstName, lastName: rest.join(' ') } : { firstName });
  if (request.incognito) await client.updateProfile({ privacyMode: 1 });
}

function adopt(pg: Playground<OpenWorldKinds>): void {
  const self = pg.self;
  const objects = new SharedObjects(pg, showNotice);
  session = {
    pg,
    objects,
    position: self ? { ...self.position } : { x: 0, y: 0, z: 0 },
    rotation: self ? { ...self.rotation } : { x: 0, y: 0, z: 0, w: 1 },
    lastSentMs: 0,
    dirty: false,
    leaving: false,
  };
  const current = session;
  rig.yaw = 0;
  rig.snap(current.position);
  pg.on('disconnected', (info) => onDisconnected(current, info));
  pg.on('reconnecting', (info) => {
    indicator.reconnecting(info.attempt);
    setState('reconnecting');
  });
  pg.on('reconnected', (info) => {
    // The server restored the avatar where its last checkpoint had it: walk on from there.
    const restored = pg.self;
    if (restored) {
      current.position = { ...restored.position };
      current.rotation = { ...restored.rotation };
    }
    indicator.resumed(info.downtimeMs, info.resumed);
    setState('joined');
  });
  pg.on('corrected', (entity) => {
    // The server refused a move (too fast, out of bounds): continue from where it says we are.
    if (entity.id === pg.selfId) {
      current.position = { ...entity.position };
      current.rotation = { ...entity.rotation };
    }
  });
  chat.bind(pg, (clientId) => senderName(pg, clientId));
  window.plexusDemo = { playground: pg, objects };
  indicator.connected(pg.serverId);
  setState('joined');
  ui.canvas.focus();
}

/** A chat sender's name: the name tag of its avatar (anonymous for incognito users). */
function senderName(pg: Playground, clientId: number): string {
  for (const entity of pg.entities.values()) {
    if (entity.kind === 'avatar' && entity.owner === clientId) return nameOf(entity);
  }
  return `client ${clientId}`;
}

async function leave(): Promise<void> {
  const current = session;
  if (!current) return;
  current.leaving = true;
  await current.pg.leave();
  session = undefined;
  setState('idle');
}

function onDisconnected(current: NonNullable<typeof session>, info: DisconnectInfo): void {
  if (session === current) session = undefined;
  if (current.leaving) return;
  ui.reason.textContent = info.error
    ? describe(info.error)
    : `The connection closed (code ${info.code}${info.reason ? `: ${info.reason}` : ''}).`;
  setState('disconnected');
}

function showNotice(text: string): void {
  ui.notice.textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    ui.notice.textContent = '';
  }, NOTICE_MS);
}

function describe(err: unknown): string {
  if (err instanceof PlexusError) return `${err.message} (${err.name})`;
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------- frame loop

function frame(timeMs: number): void {
  const started = performance.now();
  if (lastFrameMs !== undefined) world.adapt(timeMs - lastFrameMs);
  const dt = lastFrameMs === undefined ? 0 : Math.min(0.1, (timeMs - lastFrameMs) / 1000);
  lastFrameMs = timeMs;
  const current = session;
  if (current) {
    step(current, dt, timeMs);
    // Remote entities interpolated in the past (smooth at 20 Hz), own entities as predicted.
    const samples = current.pg.sample(timeMs);
    rig.update(current.position, dt);
    avatars.update(samples, current.pg.selfId, current, world.camera.position, dt);
    objectLayer.update(samples, current.pg, dt);
    world.follow(current.position);
    if (timeMs - lastHudMs >= HUD_INTERVAL_MS) {
      lastHudMs = timeMs;
      updateHud(current, samples);
    }
  } else {
    // Behind the join form: a slow flight around the plaza.
    rig.yaw += dt * 0.08;
    rig.update({ x: 0, y: 0, z: 0 }, dt);
    avatars.update([], 0, undefined, world.camera.position, dt);
    objectLayer.update([], undefined, dt);
  }
  world.render();
  meter.record(started, performance.now());
  requestAnimationFrame(frame);
}

/** Moves the own avatar (camera-relative) and sends MOVE at most every MOVE_INTERVAL_MS while moving. */
function step(current: NonNullable<typeof session>, dt: number, timeMs: number): void {
  const input = keyboard.input() ?? stick.input();
  if (input) {
    const direction = worldDirection(input, rig.yaw);
    current.position = {
      x: current.position.x + direction.x * SPEED_MPS * dt,
      y: current.position.y,
      z: current.position.z + direction.z * SPEED_MPS * dt,
    };
    // Yaw about +y so that the avatar's forward (-z) points along the movement.
    const yaw = Math.atan2(-direction.x, -direction.z);
    current.rotation = { x: 0, y: Math.sin(yaw / 2), z: 0, w: Math.cos(yaw / 2) };
    current.dirty = true;
  }
  // While moving, and once more after stopping so the server has the final spot.
  if (current.dirty && timeMs - current.lastSentMs >= MOVE_INTERVAL_MS) {
    current.pg.move({ position: current.position, rotation: current.rotation });
    current.lastSentMs = timeMs;
    current.dirty = false;
  }
  current.objects.carry(current.position, current.rotation, timeMs);
  if (current.objects.held === undefined) delete document.body.dataset.held;
  else document.body.dataset.held = String(current.objects.held);
}

function updateHud(current: NonNullable<typeof session>, samples: ReturnType<Playground['sample']>): void {
  const drawn = avatars.list();
  people.update(drawn);
  minimap.draw(
    current.position,
    rig.yaw,
    drawn,
    samples.filter((s) => s.kind === 'object').map((s) => s.position),
  );
  if (current.pg.state === 'connected') {
    const rtt = current.pg.rttMs === undefined ? '' : ` · ${Math.round(current.pg.rttMs)} ms`;
    indicator.connected(`${current.pg.serverId}${rtt}`);
  }
}

installWorldHook({
  avatars: () => avatars.list(),
  objects: () => objectLayer.list().map((o) => ({ ...o, screen: world.toScreen(o.position) })),
  connection: () => ui.connection.textContent ?? '',
  stats: () => meter.stats(world.renderer.info.render, world.resolutionScale),
  resetStats: () => meter.reset(),
});
window.addEventListener('resize', () => world.resize());
world.resize();
setState('idle');
// Shaders compile in the background first: a first frame that compiled them would freeze the page.
world
  .warmUp([defaultAvatar('#ffffff'), new NameTag('warm-up').sprite, objectPrototype()])
  .catch(() => undefined)
  .finally(() => {
    // The page is usable (the join form works, the scene is compiled); docs/operations.md quotes it.
    performance.mark('plexus-world-ready');
    requestAnimationFrame(frame);
  });
