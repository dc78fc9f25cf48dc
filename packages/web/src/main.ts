/**
 * The Plexus browser demo: join a playground as a guest, walk around with the keyboard, see the
 * others, spawn shared objects, grab one (click it, or E near it), carry it, put it down (again).
 * Served by the balancer, so the SDK talks to `location.origin`.
 *
 * Test hooks: #name, #playground, #incognito, #join, #view, #status, #spawn, #notice;
 * `window.plexusDemo.playground` and `window.plexusDemo.objects` (SharedObjects: `held`, `toggle(id)`)
 * once joined; `document.body.dataset.state` ∈ idle | joining | joined | reconnecting | disconnected (reconnecting:
 * the SDK is resuming a dropped connection; #status says so, then "reconnected (N ms)");
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
import { Keyboard } from './controls.ts';
import { SharedObjects } from './objects.ts';
import { TopDownView } from './view.ts';

declare global {
  interface Window {
    plexusDemo?: { playground: Playground<OpenWorldKinds>; objects: SharedObjects };
  }
}

type DemoState = 'idle' | 'joining' | 'joined' | 'reconnecting' | 'disconnected';

const SPEED_MPS = 5;
/** At most 20 MOVE frames per second (the server allows 60/s sustained). */
const MOVE_INTERVAL_MS = 50;
const STATUS_INTERVAL_MS = 250;
const NOTICE_MS = 2500;
/** How long #status mentions the last resume. */
const RECONNECTED_NOTE_MS = 4000;
/** A click this close to an object (metres) grabs or releases it. */
const CLICK_REACH_M = 0.6;

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
  status: byId<HTMLElement>('status'),
  leave: byId<HTMLButtonElement>('leave'),
  spawn: byId<HTMLButtonElement>('spawn'),
  notice: byId<HTMLElement>('notice'),
  reason: byId<HTMLElement>('disconnect-reason'),
  rejoin: byId<HTMLButtonElement>('rejoin'),
  back: byId<HTMLButtonElement>('back'),
  canvas: byId<HTMLCanvasElement>('view'),
};

const client = new PlexusClient({ balancerUrl: location.origin });
const view = new TopDownView(ui.canvas);
const keyboard = new Keyboard();
keyboard.attach(window);

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
      /** "reconnecting… (attempt n)" while resuming, "reconnected (N ms)" for a while after. */
      continuity?: { text: string; untilMs: number };
    }
  | undefined;
let lastJoin: { name: string; playgroundId: string; incognito: boolean } | undefined;
let lastFrameMs: number | undefined;
let lastStatusMs = 0;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

function setState(state: DemoState): void {
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
  if (event.code !== 'KeyE' || event.repeat || !session || isTyping(event)) return;
  const current = session;
  const target = current.objects.held ?? current.objects.nearest(current.position)?.id;
  if (target !== undefined) void current.objects.toggle(target);
});
ui.canvas.addEventListener('click', (event) => {
  if (!session) return;
  const target = session.objects.nearest(view.toWorld(event.clientX, event.clientY), CLICK_REACH_M);
  if (target) void session.objects.toggle(target.id);
  else if (session.objects.held !== undefined) void session.objects.release();
});
ui.rejoin.addEventListener('click', () => {
  if (lastJoin) void join(lastJoin, false);
});
ui.back.addEventListener('click', () => {
  ui.joinError.textContent = '';
  setState('idle');
});

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
  pg.on('disconnected', (info) => onDisconnected(current, info));
  pg.on('reconnecting', (info) => {
    current.continuity = {
      text: `reconnecting… (attempt ${info.attempt})`,
      untilMs: Number.POSITIVE_INFINITY,
    };
    setState('reconnecting');
    updateStatus();
  });
  pg.on('reconnected', (info) => {
    // The server restored the avatar where its last checkpoint had it: walk on from there.
    const restored = pg.self;
    if (restored) {
      current.position = { ...restored.position };
      current.rotation = { ...restored.rotation };
    }
    const where = info.resumed ? '' : ', new avatar';
    current.continuity = {
      text: `reconnected (${Math.round(info.downtimeMs)} ms${where})`,
      untilMs: performance.now() + RECONNECTED_NOTE_MS,
    };
    setState('joined');
    updateStatus();
  });
  pg.on('corrected', (entity) => {
    // The server refused a move (too fast, out of bounds): continue from where it says we are.
    if (entity.id === pg.selfId) {
      current.position = { ...entity.position };
      current.rotation = { ...entity.rotation };
    }
  });
  window.plexusDemo = { playground: pg, objects };
  updateStatus();
  setState('joined');
  ui.canvas.focus();
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

function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  return target?.tagName === 'INPUT' || target?.tagName === 'TEXTAREA';
}

function describe(err: unknown): string {
  if (err instanceof PlexusError) return `${err.message} (${err.name})`;
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------- frame loop

function frame(timeMs: number): void {
  const dt = lastFrameMs === undefined ? 0 : Math.min(0.1, (timeMs - lastFrameMs) / 1000);
  lastFrameMs = timeMs;
  if (session) {
    step(session, dt, timeMs);
    view.draw(session.pg, session, timeMs);
    if (timeMs - lastStatusMs >= STATUS_INTERVAL_MS) {
      lastStatusMs = timeMs;
      updateStatus();
    }
  } else {
    view.drawIdle(timeMs);
  }
  requestAnimationFrame(frame);
}

/** Moves the own avatar from the keyboard and sends MOVE at most every MOVE_INTERVAL_MS while moving. */
function step(current: NonNullable<typeof session>, dt: number, timeMs: number): void {
  const direction = keyboard.direction();
  if (direction) {
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

function updateStatus(): void {
  const current = session;
  if (!current) return;
  const { pg, continuity } = current;
  if (pg.state === 'reconnecting' && continuity) {
    ui.status.textContent = `${pg.playgroundId} · ${continuity.text}`;
    return;
  }
  let people = 0;
  for (const entity of pg.entities.values()) if (entity.kind === 'avatar') people++;
  const rtt = pg.rttMs === undefined ? '–' : `${Math.round(pg.rttMs)} ms`;
  const note = continuity && performance.now() < continuity.untilMs ? ` · ${continuity.text}` : '';
  ui.status.textContent = `${pg.playgroundId} · ${pg.serverId} · ${people} ${people === 1 ? 'person' : 'people'} · RTT ${rtt}${note}`;
}

window.addEventListener('resize', () => view.resize());
view.resize();
setState('idle');
requestAnimationFrame(frame);
