import type { EntitySample, Playground, Quat, Vec3 } from '@plexus/client';
import { holderName } from './objects.ts';

const AVATAR_RADIUS_M = 0.35;
const OBJECT_HALF_M = 0.25;

/** Draws a playground top-down (x to the right, z down the screen) on a full-window canvas. */
export class TopDownView {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private width = 0;
  private height = 0;
  private camera: Vec3 = { x: 0, y: 0, z: 0 };
  private lastScale = 1;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('2D canvas is not supported');
    this.ctx = ctx;
  }

  /** Matches the backing store to the window size and the device pixel ratio. */
  resize(): void {
    const dpr = window.devicePixelRatio || 1;
    this.width = window.innerWidth;
    this.height = window.innerHeight;
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  /** Draws an empty grid (before joining). */
  drawIdle(timeMs: number): void {
    this.drawGrid({ x: Math.sin(timeMs / 6000) * 3, y: 0, z: (timeMs / 1000) % 1000 }, this.scale());
  }

  /** Draws every entity of `pg`; the camera follows `self` (the locally predicted own position). */
  draw(pg: Playground, self: { position: Vec3; rotation: Quat }, timeMs: number): void {
    const scale = this.scale();
    const camera = self.position;
    this.camera = { ...camera };
    this.lastScale = scale;
    this.drawGrid(camera, scale);
    const toScreen = (p: Vec3): [number, number] => [
      this.width / 2 + (p.x - camera.x) * scale,
      this.height / 2 + (p.z - camera.z) * scale,
    ];

    // Remote entities interpolated in the past (so they move smoothly), held objects as predicted;
    // objects under avatars, own avatar on top.
    const frame = pg.sample(timeMs);
    frame.sort((a, b) => (a.kind === 'object' ? 0 : 1) - (b.kind === 'object' ? 0 : 1));
    for (const t of frame) {
      if (t.id === pg.selfId) continue;
      const [sx, sy] = toScreen(t.position);
      if (sx < -100 || sy < -100 || sx > this.width + 100 || sy > this.height + 100) continue;
      if (t.kind === 'object') this.drawObject(sx, sy, scale, t, pg);
      else this.drawAvatar(sx, sy, t.rotation, scale, colourOf(t.owner || t.id), labelOf(t), false);
    }
    const me = pg.entities.get(pg.selfId);
    if (me) {
      const [sx, sy] = toScreen(self.position);
      this.drawAvatar(
        sx,
        sy,
        self.rotation,
        scale,
        colourOf(me.owner || me.id),
        `${labelOf(me)} (you)`,
        true,
      );
    }
  }

  /** The point on the ground under a screen position (CSS pixels), for the last drawn frame. */
  toWorld(sx: number, sy: number): Vec3 {
    return {
      x: this.camera.x + (sx - this.width / 2) / this.lastScale,
      y: 0,
      z: this.camera.z + (sy - this.height / 2) / this.lastScale,
    };
  }

  private drawObject(sx: number, sy: number, scale: number, t: EntitySample, pg: Playground): void {
    const ctx = this.ctx;
    const half = OBJECT_HALF_M * scale;
    const colour = typeof t.props.color === 'string' ? t.props.color : '#8899aa';
    const held = t.owner !== 0;
    ctx.save();
    ctx.translate(sx, sy);
    ctx.rotate(-2 * Math.atan2(t.rotation.y, t.rotation.w));
    ctx.beginPath();
    if (t.props.shape === 'sphere') ctx.arc(0, 0, half, 0, Math.PI * 2);
    else ctx.rect(-half, -half, half * 2, half * 2);
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.lineWidth = held ? 3 : 1.5;
    ctx.strokeStyle = held ? colourOf(t.owner) : '#0008';
    ctx.stroke();
    ctx.restore();
    const label = typeof t.props.label === 'string' ? t.props.label : '';
    const holder = t.owner === pg.clientId ? 'you' : holderName(pg, t.owner);
    const text = holder ? `${label} · held by ${holder}` : label;
    if (!text) return;
    ctx.save();
    ctx.font = '500 12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#11141acc';
    ctx.strokeText(text, sx, sy + half + 4);
    ctx.fillStyle = held ? '#ffffff' : '#b8c0cc';
    ctx.fillText(text, sx, sy + half + 4);
    ctx.restore();
  }

  private scale(): number {
    // About 16 m across the smaller side of the window.
    return Math.max(24, Math.min(72, Math.min(this.width, this.height) / 16));
  }

  private drawGrid(camera: Vec3, scale: number): void {
    const ctx = this.ctx;
    ctx.save();
    ctx.fillStyle = '#11141a';
    ctx.fillRect(0, 0, this.width, this.height);
    const halfW = this.width / 2 / scale;
    const halfH = this.height / 2 / scale;
    const lines = (from: number, to: number, draw: (v: number) => void): void => {
      for (let v = Math.floor(from); v <= Math.ceil(to); v++) draw(v);
    };
    ctx.lineWidth = 1;
    const stroke = (v: number): string => (v === 0 ? '#3f5f96' : v % 5 === 0 ? '#2b3240' : '#1c212b');
    lines(camera.x - halfW, camera.x + halfW, (x) => {
      const sx = Math.round(this.width / 2 + (x - camera.x) * scale) + 0.5;
      ctx.strokeStyle = stroke(x);
      ctx.beginPath();
      ctx.moveTo(sx, 0);
      ctx.lineTo(sx, this.height);
      ctx.stroke();
    });
    lines(camera.z - halfH, camera.z + halfH, (z) => {
      const sy = Math.round(this.height / 2 + (z - camera.z) * scale) + 0.5;
      ctx.strokeStyle = stroke(z);
      ctx.beginPath();
      ctx.moveTo(0, sy);
      ctx.lineTo(this.width, sy);
      ctx.stroke();
    });
    ctx.restore();
  }

  private drawAvatar(
    sx: number,
    sy: number,
    rotation: Quat,
    scale: number,
    colour: string,
    label: string,
    self: boolean,
  ): void {
    const ctx = this.ctx;
    const r = AVATAR_RADIUS_M * scale;
    if (self) {
      ctx.beginPath();
      ctx.arc(sx, sy, r + 6, 0, Math.PI * 2);
      ctx.fillStyle = '#ffffff22';
      ctx.fill();
    }
    ctx.beginPath();
    ctx.arc(sx, sy, r, 0, Math.PI * 2);
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.lineWidth = self ? 3 : 1.5;
    ctx.strokeStyle = self ? '#ffffff' : '#0008';
    ctx.stroke();

    // Facing: yaw about +y, 0 = facing -z (screen up).
    const yaw = 2 * Math.atan2(rotation.y, rotation.w);
    const fx = -Math.sin(yaw);
    const fz = -Math.cos(yaw);
    ctx.beginPath();
    ctx.moveTo(sx + fx * r * 0.3, sy + fz * r * 0.3);
    ctx.lineTo(sx + fx * r * 0.95, sy + fz * r * 0.95);
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#ffffffcc';
    ctx.stroke();

    ctx.font = `${self ? 600 : 500} 13px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#11141acc';
    ctx.strokeText(label, sx, sy - r - 6);
    ctx.fillStyle = self ? '#ffffff' : '#d6dbe4';
    ctx.fillText(label, sx, sy - r - 6);
  }
}

function labelOf(entity: { id: number; props: { [key: string]: unknown } }): string {
  const name = entity.props.displayName;
  return typeof name === 'string' && name.length > 0 ? name : `#${entity.id}`;
}

/** A stable, pleasant colour per owner. */
function colourOf(n: number): string {
  const hue = (n * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 65% 58%)`;
}
