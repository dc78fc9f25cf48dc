// Colyseus 0.18 side of `npm run bench:replication`: one room per workload, written the way the
// Colyseus docs teach (docs.colyseus.io: state/schema, state/view), started as its own process by
// packages/bench/src/replication. Reports tick durations over IPC.
//   W1: MapSchema of players {x, y, z, rotY}, a "move" message, default patch rate (50 ms = 20 Hz).
//   W2: the same, plus StateView filtering by distance: the players map is tagged `.view()` and a
//       grid of interest cells updates every client's view each simulation tick (50 ms).
import { Room, Server } from '@colyseus/core';
import { Encoder, type MapSchema, StateView, schema, t } from '@colyseus/schema';
import { WebSocketTransport } from '@colyseus/ws-transport';

// Its warning near N = 400 says to raise this; 4 MiB holds a full W1 state at N = 2000+.
Encoder.BUFFER_SIZE = 4 * 1024 * 1024;

const Player = schema({ x: t.number(), y: t.number(), z: t.number(), rotY: t.number() }, 'Player');
const DenseState = schema({ players: t.map(Player) }, 'DenseState');
const WorldState = schema({ players: t.map(Player).view() }, 'WorldState');

type PlayerT = InstanceType<typeof Player>;
interface Move {
  x: number;
  y: number;
  z: number;
  rotY: number;
}

const INTEREST_M = 100;
const HYSTERESIS_M = 10;

/** Tick durations (ms) since the last report. */
let ticks: number[] = [];

function spawn(players: MapSchema<PlayerT>, key: string): void {
  const a = Math.random() * 2 * Math.PI;
  const r = Math.sqrt(Math.random()) * 4;
  players.set(key, new Player({ x: Math.cos(a) * r, y: 0, z: Math.sin(a) * r, rotY: 0 }));
}

/** The "move" message of both workloads: the way Colyseus's docs teach, straight into the schema. */
function applyMove(p: PlayerT | undefined, m: Move): void {
  if (!p) return;
  p.x = m.x;
  p.y = m.y;
  p.z = m.z;
  p.rotY = m.rotY;
}

class DenseRoom extends Room {
  onCreate(): void {
    this.setState(new DenseState());
    this.onMessage('move', (client, m: Move) => applyMove(this.state.players.get(client.sessionId), m));
  }
  onJoin(client: { sessionId: string }): void {
    spawn(this.state.players, client.sessionId);
  }
  onLeave(client: { sessionId: string }): void {
    this.state.players.delete(client.sessionId);
  }
  override broadcastPatch(): boolean {
    const t0 = performance.now();
    const r = super.broadcastPatch();
    ticks.push(performance.now() - t0);
    return r;
  }
}

class WorldRoom extends Room {
  /** What each client's view holds, to remove what left its interest. */
  private readonly visible = new Map<string, Set<PlayerT>>();
  private interestMs = 0;

  onCreate(): void {
    this.setState(new WorldState());
    this.onMessage('move', (client, m: Move) => applyMove(this.state.players.get(client.sessionId), m));
    this.setSimulationInterval(() => this.updateViews(), 50);
  }
  onJoin(client: { sessionId: string; view?: StateView }): void {
    spawn(this.state.players, client.sessionId);
    client.view = new StateView();
    this.visible.set(client.sessionId, new Set());
  }
  onLeave(client: { sessionId: string }): void {
    const gone = this.state.players.get(client.sessionId);
    this.state.players.delete(client.sessionId);
    this.visible.delete(client.sessionId);
    for (const other of this.clients) {
      const seen = this.visible.get(other.sessionId);
      if (gone && seen?.delete(gone)) other.view?.remove(gone);
    }
  }

  /** A grid of INTEREST_M cells; each client sees the players of its 3×3 cells within the radius. */
  private updateViews(): void {
    const t0 = performance.now();
    const cells = new Map<string, PlayerT[]>();
    this.state.players.forEach((p: PlayerT) => {
      const key = `${Math.floor(p.x / INTEREST_M)},${Math.floor(p.z / INTEREST_M)}`;
      const cell = cells.get(key);
      if (cell) cell.push(p);
      else cells.set(key, [p]);
    });
    for (const client of this.clients) {
      const me = this.state.players.get(client.sessionId);
      const seen = this.visible.get(client.sessionId);
      const view = client.view;
      if (!me || !seen || !view) continue;
      const cx = Math.floor(me.x / INTEREST_M);
      const cz = Math.floor(me.z / INTEREST_M);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dz = -1; dz <= 1; dz++) {
          for (const p of cells.get(`${cx + dx},${cz + dz}`) ?? []) {
            if (seen.has(p)) continue;
            if (Math.hypot(p.x - me.x, p.z - me.z) <= INTEREST_M) {
              view.add(p);
              seen.add(p);
            }
          }
        }
      }
      for (const p of seen) {
        if (Math.hypot(p.x - me.x, p.z - me.z) > INTEREST_M + HYSTERESIS_M) {
          view.remove(p);
          seen.delete(p);
        }
      }
    }
    this.interestMs = performance.now() - t0;
  }
  override broadcastPatch(): boolean {
    const t0 = performance.now();
    const r = super.broadcastPatch();
    ticks.push(performance.now() - t0 + this.interestMs);
    this.interestMs = 0;
    return r;
  }
}

const port = Number(process.env.COLYSEUS_PORT ?? 0);
const server = new Server({ transport: new WebSocketTransport() });
server.define('w1', DenseRoom);
server.define('w2', WorldRoom);
await server.listen(port, '127.0.0.1');

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'ticks') {
    process.send?.({ type: 'ticks', ticks });
    ticks = [];
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'listening', port });
