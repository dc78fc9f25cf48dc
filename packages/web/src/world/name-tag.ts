import { CanvasTexture, LinearFilter, Sprite, SpriteMaterial, SRGBColorSpace } from 'three';

/** Height of a tag in the world, metres. */
const TAG_HEIGHT_M = 0.3;
const FONT_PX = 40;
/** Longest text drawn; names are bounded by the server already (512), tags need far less. */
const MAX_CHARS = 48;

/**
 * A text label that always faces the camera (name tags, object labels). The text is painted on a
 * canvas with fillText: user text never becomes markup.
 */
export class NameTag {
  readonly sprite: Sprite;
  private text = '';
  private accent = '';
  private readonly canvas = document.createElement('canvas');
  private readonly texture: CanvasTexture;
  private readonly heightM: number;

  constructor(text: string, accent = '#ffffff', heightM = TAG_HEIGHT_M) {
    this.heightM = heightM;
    this.texture = new CanvasTexture(this.canvas);
    this.texture.colorSpace = SRGBColorSpace;
    this.texture.minFilter = LinearFilter;
    this.texture.generateMipmaps = false;
    this.sprite = new Sprite(new SpriteMaterial({ map: this.texture, depthWrite: false, transparent: true }));
    // Drawn after the scene, so that a tag is not hidden by its own avatar's head.
    this.sprite.renderOrder = 10;
    this.set(text, accent);
  }

  /** The text shown (as drawn, after trimming to MAX_CHARS). */
  get value(): string {
    return this.text;
  }

  /** Repaints when the text or accent colour changed. */
  set(text: string, accent = this.accent): void {
    const clipped = text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
    if (clipped === this.text && accent === this.accent) return;
    this.text = clipped;
    this.accent = accent;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const font = `600 ${FONT_PX}px system-ui, -apple-system, "Segoe UI", sans-serif`;
    ctx.font = font;
    const padX = 22;
    const width = Math.ceil(ctx.measureText(clipped).width) + padX * 2 + 18;
    const height = FONT_PX + 26;
    this.canvas.width = width;
    this.canvas.height = height;
    ctx.font = font;
    ctx.fillStyle = 'rgba(17, 20, 26, 0.72)';
    ctx.beginPath();
    ctx.roundRect(0, 0, width, height, height / 2);
    ctx.fill();
    ctx.fillStyle = accent;
    ctx.beginPath();
    ctx.arc(padX, height / 2, 8, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.textBaseline = 'middle';
    ctx.fillText(clipped, padX + 18, height / 2 + 2);
    this.texture.dispose();
    this.texture.needsUpdate = true;
    this.sprite.scale.set((this.heightM * width) / height, this.heightM, 1);
  }

  dispose(): void {
    this.texture.dispose();
    this.sprite.material.dispose();
  }
}
