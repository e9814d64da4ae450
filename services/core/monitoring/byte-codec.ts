/**
 * The little-endian bytes of a binary document: unsigned integers as LEB128 varints (up to
 * Number.MAX_SAFE_INTEGER, computed with arithmetic, so exact for every safe integer), doubles as
 * their 8 IEEE bytes, strings as a varint byte length and their UTF-8. The reader refuses, with a
 * RangeError, anything a writer could not have written: a varint beyond a safe integer or longer
 * than 8 bytes, a string that is not UTF-8, and a read beyond the end; and it lets a caller check a
 * declared count against the bytes left before allocating for it, so that no declared size can make
 * it allocate more than the input's length allows.
 */

const MAXIMUM_VARINT_BYTES = 8;
// fatal: malformed UTF-8 is refused; ignoreBOM: a leading U+FEFF is kept, so that a string reads back as written.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export class ByteWriter {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  private length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** A safe non-negative integer. */
  uint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a non-negative safe integer`);
    this.reserve(MAXIMUM_VARINT_BYTES);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.bytes[this.length++] = rest;
  }

  double(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value & 0xff;
  }

  /** A well-formed string: one with a lone surrogate has no UTF-8 and is refused rather than written as another. */
  string(value: string): void {
    if (!value.isWellFormed()) throw new RangeError('a string with a lone surrogate has no UTF-8 form');
    const encoded = encoder.encode(value);
    this.uint(encoded.length);
    this.reserve(encoded.length);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
  }

  /** The bytes written, a copy of exactly their length. */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  get atEnd(): boolean {
    return this.position === this.bytes.length;
  }

  /** A count of items of at least `bytesEach` bytes each, refused when the bytes left cannot hold them. */
  count(bytesEach: number, what: string): number {
    const count = this.uint();
    if (count * bytesEach > this.remaining) throw new RangeError(`${what}: ${count} declared, more than the ${this.remaining} bytes left can hold`);
    return count;
  }

  uint(): number {
    // Most varints are one byte: read without the loop.
    if (this.position < this.bytes.length && this.bytes[this.position]! < 0x80) return this.bytes[this.position++]!;
    let value = 0;
    let scale = 1;
    for (let read = 0; read < MAXIMUM_VARINT_BYTES; read++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw new RangeError(`a varint of ${value} is beyond a safe integer`);
        // A final zero byte after others writes a value in more bytes than it needs: not what uint() writes.
        if (byte === 0 && read > 0) throw new RangeError('a varint has a redundant final byte');
        return value;
      }
      scale *= 0x80;
    }
    throw new RangeError(`a varint is longer than ${MAXIMUM_VARINT_BYTES} bytes`);
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.position++]!;
  }

  /** A signed 64-bit little-endian integer (ClickHouse's Int64 in RowBinary), which must be a safe integer. */
  int64(): number {
    this.need(8);
    const value = this.view.getBigInt64(this.position, true);
    this.position += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new RangeError(`${value} is beyond a safe integer`);
    return Number(value);
  }

  /** The next `length` bytes, as a view of the input rather than a copy. */
  take(length: number): Uint8Array {
    this.need(length);
    const bytes = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return bytes;
  }

  string(): string {
    const length = this.count(1, 'a string');
    let text: string;
    try {
      text = decoder.decode(this.bytes.subarray(this.position, this.position + length));
    } catch (error) {
      throw new RangeError('a string is not UTF-8', { cause: error });
    }
    this.position += length;
    return text;
  }

  private need(length: number): void {
    if (this.position + length > this.bytes.length) throw new RangeError(`the document ends ${this.position + length - this.bytes.length} bytes early`);
  }
}
