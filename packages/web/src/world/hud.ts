import type { Vec3 } from '@plexus/client';
import type { AvatarInfo } from './avatars.ts';

/** How long the indicator says "resumed after N ms" before going back to "connected". */
const RESUMED_NOTE_MS = 8000;
/** Rows in the people list; the rest are counted. */
const MAX_PEOPLE_ROWS = 40;
/** Metres from the centre to the edge of the minimap. */
const MINIMAP_RANGE_M = 20;
/** The minimap's size in style.css. */
const MINIMAP_CSS_PX = 168;

type Link = 'connected' | 'reconnecting' | 'resumed';

/**
 * The connection indicator: connected / reconnecting… / resumed after N ms, following the SDK's
 * reconnecting and reconnected events (resuming a presence: docs/protocol.md §5.9, failover:
 * docs/operations.md). `data-link` holds the state.
 */
export class ConnectionIndicator {
  private readonly element: HTMLElement;
  private resumedUntilMs = 0;

  constructor(element: HTMLElement) {
    this.element = element;
  }

  connected(detail: string): void {
    if (performance.now() < this.resumedUntilMs) return;
    this.show('connected', `connected · ${detail}`);
  }

  reconnecting(attempt: number): void {
    this.resumedUntilMs = 0;
    this.show('reconnecting', `reconnecting… (attempt ${attempt})`);
  }

  /** `resumed` false: the old session could not be resumed; the server gave a new avatar. */
  resumed(downtimeMs: number, resumed: boolean): void {
    this.resumedUntilMs = performance.now() + RESUMED_NOTE_MS;
    const ms = Math.round(downtimeMs);
    this.show('resumed', resumed ? `resumed after ${ms} ms` : `reconnected after ${ms} ms (new avatar)`);
  }

  private show(link: Link, text: string): void {
    this.element.dataset.link = link;
    if (this.element.textContent !== text) this.element.textContent = text;
  }
}

/** The people in view: a coloured dot and the name each avatar's tag shows. */
export class PeopleList {
  private readonly title: HTMLElement;
  private readonly list: HTMLElement;
  private signature = '';

  constructor(title: HTMLElement, list: HTMLElement) {
    this.title = title;
    this.list = list;
  }

  update(avatars: readonly AvatarInfo[]): void {
    const sorted = [...avatars].sort(
      (a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name),
    );
    const signature = sorted.map((a) => `${a.id}:${a.name}`).join('|');
    if (signature === this.signature) return;
    this.signature = signature;
    this.title.textContent = `People (${sorted.length})`;
    const rows: HTMLElement[] = [];
    for (const avatar of sorted.slice(0, MAX_PEOPLE_ROWS)) {
      const row = document.createElement('li');
      row.dataset.id = String(avatar.id);
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = avatar.colour;
      const name = document.createElement('span');
      name.textContent = avatar.self ? `${avatar.name} (you)` : avatar.name;
      row.append(dot, name);
      rows.push(row);
    }
    if (sorted.length > MAX_PEOPLE_ROWS) {
      const more = document.createElement('li');
      more.className = 'more';
      more.textContent = `and ${sorted.length - MAX_PEOPLE_ROWS} more`;
      rows.push(more);
    }
    this.list.replaceChildren(...rows);
  }
}

/** A north-up map of the surroundings: people as dots, objects as squares, the view as a cone. */
export class Minimap {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D | null;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    // Sized here, not from layout: the map is hidden (display: none) until the page joins.
    canvas.width = Math.round(MINIMAP_CSS_PX * dpr);
    canvas.height = Math.round(MINIMAP_CSS_PX * dpr);
    this.ctx = canvas.getContext('2d');
  }

  draw(centre: Vec3, yaw: number, avatars: readonly AvatarInfo[], objects: readonly Vec3[]): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const { width, height } = this.canvas;
    const r = width / 2;
    const scale = r / MINIMAP_RANGE_M;
    ctx.clearRect(0, 0, width, height);
    ctx.save();
    ctx.beginPath();
    ctx.arc(r, r, r - 1, 0, Math.PI * 2);
    ctx.fillStyle = 'rgba(20, 26, 34, 0.72)';
    ctx.fill();
    ctx.clip();
    // The plaza, for orientation.
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.18)';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(r - centre.x * scale, r - centre.z * scale, 7 * scale, 0, Math.PI * 2);
    ctx.stroke();
    // Where the camera looks: yaw 0 looks along -z, up on the map.
    ctx.fillStyle = 'rgba(255, 255, 255, 0.12)';
    ctx.beginPath();
    ctx.moveTo(r, r);
    ctx.arc(r, r, r, -Math.PI / 2 - yaw - 0.5, -Math.PI / 2 - yaw + 0.5);
    ctx.closePath();
    ctx.fill();
    const dot = (p: Vec3): [number, number] => [r + (p.x - centre.x) * scale, r + (p.z - centre.z) * scale];
    ctx.fillStyle = '#e9c46a';
    for (const o of objects) {
      const [x, y] = dot(o);
      ctx.fillRect(x - 2.5, y - 2.5, 5, 5);
    }
    for (const avatar of avatars) {
      const [x, y] = dot(avatar.position);
      ctx.beginPath();
      ctx.arc(x, y, avatar.self ? 5 : 3.5, 0, Math.PI * 2);
      ctx.fillStyle = avatar.colour;
      ctx.fill();
      if (avatar.self) {
        ctx.lineWidth = 2;
        ctx.strokeStyle = '#ffffff';
        ctx.stroke();
      }
    }
    ctx.restore();
  }
}
