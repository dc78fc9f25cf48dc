/**
 * A bot's random walk inside the square [-spread/2, spread/2]² around the playground origin, on
 * the ground (y = 0). A fresh walker first *deploys*: it travels in a straight line at
 * `deploySpeedMps` from its spawn point to a uniformly drawn point of the square (so that a large
 * `spread` really spreads the bots out, within the server's speed limit), then wanders at its own
 * cruising speed, turning a little at every step and bouncing off the square's edges.
 */
export interface WalkOptions {
  /** Side of the square, metres. */
  spread: number;
  /** Cruising speed range, m/s (default 1.5–3). */
  minSpeedMps?: number;
  maxSpeedMps?: number;
  /** Speed while deploying to the starting point, m/s (default 40; the server allows 50). */
  deploySpeedMps?: number;
}

export class Walker {
  x: number;
  z: number;
  /** Heading, radians (0 = +x). */
  heading: number;
  readonly speedMps: number;
  readonly half: number;
  deploying: boolean;
  private readonly targetX: number;
  private readonly targetZ: number;
  private readonly deploySpeedMps: number;

  constructor(startX: number, startZ: number, options: WalkOptions, random: () => number = Math.random) {
    const minSpeed = options.minSpeedMps ?? 1.5;
    const maxSpeed = options.maxSpeedMps ?? 3;
    this.half = options.spread / 2;
    this.x = clamp(startX, -this.half, this.half);
    this.z = clamp(startZ, -this.half, this.half);
    this.heading = random() * 2 * Math.PI;
    this.speedMps = minSpeed + random() * (maxSpeed - minSpeed);
    this.targetX = (random() * 2 - 1) * this.half;
    this.targetZ = (random() * 2 - 1) * this.half;
    this.deploySpeedMps = options.deploySpeedMps ?? 40;
    this.deploying = true;
  }

  /** Advances by `dtS` seconds. */
  step(dtS: number, random: () => number = Math.random): void {
    if (this.deploying) {
      const dx = this.targetX - this.x;
      const dz = this.targetZ - this.z;
      const d = Math.hypot(dx, dz);
      const reach = this.deploySpeedMps * dtS;
      if (d <= reach) {
        this.x = this.targetX;
        this.z = this.targetZ;
        this.deploying = false;
      } else {
        this.x += (dx / d) * reach;
        this.z += (dz / d) * reach;
      }
      return;
    }
    this.heading += (random() - 0.5) * 0.6;
    const d = this.speedMps * dtS;
    let x = this.x + Math.cos(this.heading) * d;
    let z = this.z + Math.sin(this.heading) * d;
    if (x > this.half || x < -this.half) {
      this.heading = Math.PI - this.heading;
      x = clamp(2 * Math.sign(x) * this.half - x, -this.half, this.half);
    }
    if (z > this.half || z < -this.half) {
      this.heading = -this.heading;
      z = clamp(2 * Math.sign(z) * this.half - z, -this.half, this.half);
    }
    this.x = x;
    this.z = z;
  }

  /** Yaw rotation quaternion of the heading (y up). */
  rotationY(): { x: number; y: number; z: number; w: number } {
    const half = -this.heading / 2;
    return { x: 0, y: Math.sin(half), z: 0, w: Math.cos(half) };
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
