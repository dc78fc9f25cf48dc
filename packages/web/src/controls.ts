/** Keyboard state: which movement keys are held, as a direction on the x/z plane. */
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

  /** Unit direction of the held keys on the x/z plane (screen up is -z), or null when not moving. */
  direction(): { x: number; z: number } | null {
    let x = 0;
    let z = 0;
    for (const code of this.held) {
      const d = KEY_DIRECTIONS[code];
      if (d) {
        x += d[0];
        z += d[1];
      }
    }
    const length = Math.hypot(x, z);
    return length === 0 ? null : { x: x / length, z: z / length };
  }
}

function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  return target?.tagName === 'INPUT' || target?.tagName === 'TEXTAREA';
}
