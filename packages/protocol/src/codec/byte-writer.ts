const textEncoder = new TextEncoder();

/**
 * Append-only little-endian writer over a growable buffer. `reset()` keeps the allocation so a
 * writer reused once per tick does not allocate on the hot path.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): this {
    this.ensure(1);
    this.buf[this.pos++] = value & 0xff;
    return this;
  }

  u16(value: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, value, true);
    this.pos += 2;
    return this;
  }

  /** Unsigned LEB128, for integers 0 ≤ value ≤ `max` (2^32 − 1 unless a layout says otherwise; ≤ 2^35 − 1). */
  varuint(value: number, max = 0xffffffff): this {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new RangeError(`varuint out of range: ${value}`);
    }
    this.ensure(5);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  f32(value: number): this {
    this.ensure(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  f64(value: number): this {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  /** UTF-8 string prefixed by its byte length as a varuint. */
  string(value: string): this {
    const bytes = textEncoder.encode(value);
    this.varuint(bytes.length);
    this.bytes(bytes);
    return this;
  }

  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** The written bytes without copying: valid only until the writer is written to or reset. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the written bytes, safe to keep after the writer is reset. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
