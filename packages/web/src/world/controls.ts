/** Movement keys and their direction: x to the right, z towards the viewer (forward is -z). */
const KEY_DIRECTIONS: Record<string, [dx: number, dz: number]> = {
  ArrowUp: [0, -1],
  KeyW: [0, -1],
  ArrowDown: [0, 1],
  KeyS: [0, 1],
  ArrowLeft: [-1, 0],
  KeyA: [-1, 0],
  ArrowRight: [1, 0],
  KeyD: [1, 0],
};

/** Keyboard state: which movement keys are held. */
export class Keyboard {
  private readonly held = new Set<string>();

  /** Starts listening on `target`; returns a function that stops. */
  attach(target: Window): () => void {
    const down = (event: KeyboardEvent): void => {
      if (!(event.code in KEY_DIRECTIONS) || isTyping(event)) return;
      event.preventDefault();
      this.held.add(event.code);
    };
    const up = (event: KeyboardEvent): void => {
      this.held.delete(event.code);
    };
    // Keys released while the page had no focus never send keyup.
    const blur = (): void => this.held.clear();
    target.addEventListener('keydown', down);
    target.addEventListener('keyup', up);
    target.addEventListener('blur', blur);
    return () => {
      target.removeEventListener('keydown', down);
      target.removeEventListener('keyup', up);
      target.removeEventListener('blur', blur);
      this.held.clear();
    };
  }

  /** The held keys' direction relative to the camera (x right, z back), or null. */
  input(): { x: number; z: number } | null {
    let x = 0;
    let z = 0;
    for (const code of this.held) {
      const d = KEY_DIRECTIONS[code];
      if (d) {
        x += d[0];
        z += d[1];
      }
    }
    return x === 0 && z === 0 ? null : { x, z };
  }
}

/**
 * An on-screen stick for touch screens (`element` holds a `.knob`): drag it to walk. Its input has
 * the same meaning as the keyboard's.
 */
export class TouchStick {
  private value: { x: number; z: number } | null = null;

  attach(element: HTMLElement): void {
    const knob = element.querySelector<HTMLElement>('.knob');
    let active: number | undefined;
    const move = (event: PointerEvent): void => {
      if (event.pointerId !== active) return;
      const rect = element.getBoundingClientRect();
      const radius = rect.width / 2;
      let x = (event.clientX - rect.left - radius) / radius;
      let z = (event.clientY - rect.top - radius) / radius;
      const length = Math.hypot(x, z);
      if (length > 1) {
        x /= length;
        z /= length;
      }
      this.value = length < 0.15 ? null : { x, z };
      if (knob) knob.style.transform = `translate(${x * radius * 0.6}px, ${z * radius * 0.6}px)`;
    };
    const end = (event: PointerEvent): void => {
      if (event.pointerId !== active) return;
      active = undefined;
      this.value = null;
      if (knob) knob.style.transform = '';
    };
    element.addEventListener('pointerdown', (event) => {
      active = event.pointerId;
      element.setPointerCapture(event.pointerId);
      move(event);
    });
    element.addEventListener('pointermove', move);
    element.addEventListener('pointerup', end);
    element.addEventListener('pointercancel', end);
  }

  input(): { x: number; z: number } | null {
    return this.value;
  }
}

/**
 * Turns a camera-relative input into a world direction on the x/z plane (unit length or less):
 * the camera at `yaw` looks along (-sin yaw, -cos yaw).
 */
export function worldDirection(input: { x: number; z: number }, yaw: number): { x: number; z: number } {
  const length = Math.hypot(input.x, input.z);
  const scale = length > 1 ? 1 / length : 1;
  const x = input.x * scale;
  const z = input.z * scale;
  const cos = Math.cos(yaw);
  const sin = Math.sin(yaw);
  return { x: x * cos + z * sin, z: -x * sin + z * cos };
}

export function isTyping(event: Event): boolean {
  const target = event.target as HTMLElement | null;
  return target?.tagName === 'INPUT' || target?.tagName === 'TEXTAREA';
}
