const textDecoder = new TextDecoder('utf-8', { fatal: true });
/**
 * Floats are read through this one scratch view, not a view of each frame: a DataView per frame was
 * an allocation per MOVE on the server's receive path (~8,000 a second in a dense playground).
 */
const scratch = new DataView(new ArrayBuffer(8));

/** Thrown for any frame that cannot be decoded; edges turn it into PROTOCOL_MALFORMED_FRAME. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** Bounds-checked little-endian reader; every read past the end throws DecodeError. */
export class ByteReader {
  private readonly buf: Uint8Array;
  private pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DecodeError('frame truncated');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return (b[p] as number) | ((b[p + 1] as number) << 8);
  }

  /** Four bytes little-endian, as the bits of an int32 (the caller reinterprets them). */
  private i32(): number {
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (
      (b[p] as number) |
      ((b[p + 1] as number) << 8) |
      ((b[p + 2] as number) << 16) |
      ((b[p + 3] as number) << 24)
    );
  }

  /** Unsigned LEB128 of at most 5 bytes, at most `max` (2^32 − 1 unless a layout says otherwise). */
  varuint(max = 0xffffffff): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (result > max) throw new DecodeError('varuint overflow');
        return result;
      }
      scale *= 128;
    }
    throw new DecodeError('varuint too long');
  }

  f32(): number {
    this.need(4);
    scratch.setInt32(0, this.i32(), true);
    return scratch.getFloat32(0, true);
  }

  f64(): number {
    this.need(8);
    scratch.setInt32(0, this.i32(), true);
    scratch.setInt32(4, this.i32(), true);
    return scratch.getFloat64(0, true);
  }

  /** A varuint-length-prefixed UTF-8 string of at most `maxBytes` bytes. */
  string(maxBytes: number): string {
    const len = this.varuint();
    if (len > maxBytes) throw new DecodeError(`string longer than ${maxBytes} bytes`);
    this.need(len);
    const start = this.pos;
    this.pos += len;
    try {
      return textDecoder.decode(this.buf.subarray(start, this.pos));
    } catch {
      throw new DecodeError('invalid UTF-8');
    }
  }

  /** Fails when bytes are left over: frames have no trailing data. */
  end(): void {
    if (this.pos !== this.buf.length) throw new DecodeError('trailing bytes after frame');
  }
}
