import { type PerspectiveCamera, Vector3 } from 'three';

const MIN_PITCH = 0.05;
const MAX_PITCH = 1.3;
const MIN_DISTANCE_M = 2.5;
const MAX_DISTANCE_M = 16;
const RADIANS_PER_PX = 0.006;
/** A pointer that moved less than this between down and up clicked rather than dragged. */
const CLICK_SLOP_PX = 6;
const EYE_HEIGHT_M = 1.5;

/**
 * Third-person camera behind the own avatar: drag (mouse or finger) to look around, wheel or pinch
 * to zoom. A press that does not drag is reported as a click (grab/release in main.ts).
 * `yaw` 0 looks along -z; the keyboard moves relative to it (controls.ts).
 */
export class CameraRig {
  yaw = 0;
  pitch = 0.3;
  distance = 7;
  private readonly camera: PerspectiveCamera;
  private readonly focus = new Vector3();
  private readonly pointers = new Map<number, { x: number; y: number; startX: number; startY: number }>();
  private pinch: number | undefined;

  constructor(camera: PerspectiveCamera) {
    this.camera = camera;
  }

  /** Listens on `element`; `onClick` gets the client position of a press that did not drag. */
  attach(element: HTMLElement, onClick: (x: number, y: number) => void): void {
    element.addEventListener('pointerdown', (event) => {
      element.setPointerCapture(event.pointerId);
      this.pointers.set(event.pointerId, {
        x: event.clientX,
        y: event.clientY,
        startX: event.clientX,
        startY: event.clientY,
      });
      this.pinch = undefined;
    });
    element.addEventListener('pointermove', (event) => {
      const p = this.pointers.get(event.pointerId);
      if (!p) return;
      if (this.pointers.size === 2) {
        const [a, b] = [...this.pointers.values()] as [typeof p, typeof p];
        p.x = event.clientX;
        p.y = event.clientY;
        const spread = Math.hypot(a.x - b.x, a.y - b.y);
        if (this.pinch !== undefined) this.zoom((this.pinch - spread) * 0.03);
        this.pinch = spread;
        return;
      }
      this.yaw -= (event.clientX - p.x) * RADIANS_PER_PX;
      this.pitch = clamp(this.pitch + (event.clientY - p.y) * RADIANS_PER_PX, MIN_PITCH, MAX_PITCH);
      p.x = event.clientX;
      p.y = event.clientY;
    });
    const end = (event: PointerEvent): void => {
      const p = this.pointers.get(event.pointerId);
      this.pointers.delete(event.pointerId);
      if (event.type !== 'pointerup' || !p || this.pointers.size > 0) return;
      if (Math.hypot(event.clientX - p.startX, event.clientY - p.startY) < CLICK_SLOP_PX) {
        onClick(event.clientX, event.clientY);
      }
    };
    element.addEventListener('pointerup', end);
    element.addEventListener('pointercancel', end);
    element.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        this.zoom(event.deltaY * 0.01);
      },
      { passive: false },
    );
  }

  /** Places the camera behind `target` (the avatar's feet), easing towards it. */
  update(target: { x: number; y: number; z: number }, dt: number): void {
    const ease = dt > 0 ? 1 - Math.exp(-dt * 12) : 1;
    this.focus.x += (target.x - this.focus.x) * ease;
    this.focus.y += (target.y + EYE_HEIGHT_M - this.focus.y) * ease;
    this.focus.z += (target.z - this.focus.z) * ease;
    const horizontal = Math.cos(this.pitch) * this.distance;
    this.camera.position.set(
      this.focus.x + Math.sin(this.yaw) * horizontal,
      this.focus.y + Math.sin(this.pitch) * this.distance,
      this.focus.z + Math.cos(this.yaw) * horizontal,
    );
    this.camera.lookAt(this.focus);
  }

  /** Jumps to `target` at once (after joining or a resume). */
  snap(target: { x: number; y: number; z: number }): void {
    this.focus.set(target.x, target.y + EYE_HEIGHT_M, target.z);
  }

  private zoom(delta: number): void {
    this.distance = clamp(this.distance + delta, MIN_DISTANCE_M, MAX_DISTANCE_M);
  }
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, v));
}
