/**
 * The Plexus browser demo: join a playground as a guest, walk around with the keyboard, see the
 * others. Served by the balancer, so the SDK talks to `location.origin`.
 *
 * Test hooks: #name, #playground, #incognito, #join, #view, #status; `window.plexusDemo.playground`
 * once joined; `document.body.dataset.state` ∈ idle | joining | joined | disconnected.
 */
import {
  type DisconnectInfo,
  type Playground,
  PlexusClient,
  PlexusError,
  type Quat,
  type Vec3,
} from '@plexus/client';
import { Keyboard } from './controls.ts';
import { TopDownView } from './view.ts';

declare global {
  interface Window {
    plexusDemo?: { playground: Playground };
  }
}

type DemoState = 'idle' | 'joining' | 'joined' | 'disconnected';

const SPEED_MPS = 5;
/** At most 20 MOVE frames per second (the server allows 60/s sustained). */
const MOVE_INTERVAL_MS = 50;
const STATUS_INTERVAL_MS = 250;

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
      pg: Playground;
      position: Vec3;
      rotation: Quat;
      lastSentMs: number;
      dirty: boolean;
      leaving: boolean;
    }
  | undefined;
let lastJoin: { name: string; playgroundId: string; incognito: boolean } | undefined;
let lastFrameMs: number | undefined;
let lastStatusMs = 0;

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
    let pg: Playground;
    try {
      pg = await client.join({ playgroundId: request.playgroundId });
    } catch (err) {
      // The guest session may have expired since the last join: log in again once.
      if (!(err instanceof PlexusError && err.is('AUTH_INVALID_SESSION'))) throw err;
      await login(request);
      pg = await client.join({ playgroundId: request.playgroundId });
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

function adopt(pg: Playground): void {
  const self = pg.self;
  session = {
    pg,
    position: self ? { ...self.position } : { x: 0, y: 0, z: 0 },
    rotation: self ? { ...self.rotation } : { x: 0, y: 0, z: 0, w: 1 },
    lastSentMs: 0,
    dirty: false,
    leaving: false,
  };
  const current = session;
  pg.on('disconnected', (info) => onDisconnected(current, info));
  pg.on('error', (err) => {
    // The server refused a move (too fast, out of bounds): continue from where it says we are.
    if (err.is('PROTOCOL_INVALID_TRANSFORM') && pg.self) {
      current.position = { ...pg.self.position };
      current.rotation = { ...pg.self.rotation };
    }
  });
  window.plexusDemo = { playground: pg };
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
}

function updateStatus(): void {
  const pg = session?.pg;
  if (!pg) return;
  let people = 0;
  for (const entity of pg.entities.values()) if (entity.kind === 'avatar') people++;
  const rtt = pg.rttMs === undefined ? '–' : `${Math.round(pg.rttMs)} ms`;
  ui.status.textContent = `${pg.playgroundId} · ${pg.serverId} · ${people} ${people === 1 ? 'person' : 'people'} · RTT ${rtt}`;
}

window.addEventListener('resize', () => view.resize());
view.resize();
setState('idle');
requestAnimationFrame(frame);
