import type { AvatarInfo } from './avatars.ts';
import type { ObjectInfo } from './object-layer.ts';

/** Frame timing of the world page, for the performance check in the README. */
export interface FrameStats {
  frames: number;
  /** Mean time spent in one frame's JavaScript and render call (CPU side), ms. */
  meanWorkMs: number;
  /** Mean time between frames, ms (1000 / fps). */
  meanIntervalMs: number;
  /** Draw calls and triangles of the last frame (three.js counts them). */
  drawCalls: number;
  triangles: number;
  /** Fraction of the device pixel ratio drawn (dynamic resolution, scene.ts). */
  resolutionScale: number;
}

/** The read-only view of the world that tests and the screenshot script use (`window.__plexusWorld`). */
export interface WorldHook {
  /** Avatars in the scene, with their name tags and drawn positions. */
  avatars(): AvatarInfo[];
  /** Shared objects in the scene, with their labels and where they appear on the page. */
  objects(): (ObjectInfo & { screen: { x: number; y: number } })[];
  /** The connection indicator's text. */
  connection(): string;
  /** Frame timing since the last `resetStats()`. */
  stats(): FrameStats;
  resetStats(): void;
}

declare global {
  interface Window {
    __plexusWorld?: Readonly<WorldHook>;
  }
}

/** Installs the hook; every call returns copies, so a test cannot change the page through it. */
export function installWorldHook(hook: WorldHook): void {
  Object.defineProperty(window, '__plexusWorld', { value: Object.freeze({ ...hook }), writable: false });
}

/** Accumulates FrameStats. */
export class FrameMeter {
  private frames = 0;
  private work = 0;
  private intervals = 0;
  private intervalSum = 0;
  private last: number | undefined;

  record(startMs: number, endMs: number): void {
    this.frames++;
    this.work += endMs - startMs;
    if (this.last !== undefined) {
      this.intervals++;
      this.intervalSum += startMs - this.last;
    }
    this.last = startMs;
  }

  stats(render: { calls: number; triangles: number }, resolutionScale: number): FrameStats {
    return {
      resolutionScale,
      triangles: render.triangles,
      frames: this.frames,
      meanWorkMs: this.frames ? this.work / this.frames : 0,
      meanIntervalMs: this.intervals ? this.intervalSum / this.intervals : 0,
      drawCalls: render.calls,
    };
  }

  reset(): void {
    this.frames = 0;
    this.work = 0;
    this.intervals = 0;
    this.intervalSum = 0;
    this.last = undefined;
  }
}
