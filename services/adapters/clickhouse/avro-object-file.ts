import { randomBytes } from 'node:crypto';
import type avro from 'avsc';

/**
 * Avro object container files (Avro specification, "Object Container Files") made from bodies that
 * are already encoded: ClickHouse's `Avro` input format reads them in C++, so an insert costs a copy
 * of each body in JavaScript instead of building, serialising and parsing a row per event.
 *
 * Each row is one body followed by trailing fields, declared in the file's schema after the body's
 * own fields. An Avro record is the concatenation of its fields' encodings, so a body that is exactly
 * one record (the body guard refuses trailing bytes) followed by the encoded trailing fields is one
 * record of the extended schema. Nothing in a body is ever interpreted as anything but Avro data of
 * its declared length: there is no text format and no statement for event content to end.
 */

export type TrailingField = { name: string; type: 'string' | 'int' | 'long' | { type: 'long'; logicalType: 'timestamp-millis' } };
export type TrailingValue = string | number | bigint;

/** A record schema with the trailing fields appended to its own. */
export function extendRecordSchema(schema: avro.Schema, trailing: readonly TrailingField[]): avro.Schema {
  const record = schema as { type: 'record'; fields: unknown[] };
  if (record.type !== 'record') throw new Error('only a record schema can be extended');
  return { ...record, fields: [...record.fields, ...trailing] } as avro.Schema;
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const SYNC_BYTES = 16;
/** Rows per block: blocks keep ClickHouse's read buffer small whatever the batch size. */
const ROWS_PER_BLOCK = 4_096;

/**
 * Writes an object container file of `rows` in the extended `schema`: `trailing(row)` gives the
 * values of the trailing fields in their declared order. `body(row)` is asked twice per row, once
 * to size the file. `allocate` gives the file its buffer, at least the bytes asked for (a caller may
 * hand out buffers it got back); it must not give one that is still in use.
 */
export function avroObjectFile<Row>(
  schemaJson: string,
  trailingFields: readonly TrailingField[],
  rows: readonly Row[],
  body: (row: Row) => Buffer,
  trailing: (row: Row) => readonly TrailingValue[],
  allocate: (bytes: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  const sync = randomBytes(SYNC_BYTES);
  // Sized once from the bodies, so that a file of thousands of rows is written without growing.
  let bodyBytes = 0;
  for (const row of rows) bodyBytes += body(row).length;
  const writer = new ByteWriter(allocate(1024 + 3 * schemaJson.length + bodyBytes + rows.length * 64));
  writer.bytes(MAGIC);
  // File metadata: a map of two entries, then the end of the map.
  writer.long(2);
  writer.string('avro.schema');
  writer.string(schemaJson);
  writer.string('avro.codec');
  writer.string('null');
  writer.long(0);
  writer.bytes(sync);
  for (let start = 0; start < rows.length; start += ROWS_PER_BLOCK) {
    const end = Math.min(rows.length, start + ROWS_PER_BLOCK);
    // A block is its row count and byte size, then its rows: written after room for the two,
    // which are filled in once the size is known.
    const header = writer.reserve(BLOCK_HEADER_ROOM);
    for (let index = start; index < end; index++) {
      const row = rows[index] as Row;
      writer.bytes(body(row));
      const values = trailing(row);
      for (let field = 0; field < trailingFields.length; field++) writer.value(trailingFields[field] as TrailingField, values[field] as TrailingValue);
    }
    writer.fillBlockHeader(header, end - start);
    writer.bytes(sync);
  }
  return writer.view();
}

/** Room for a block's row count and byte size, two varints of at most 10 bytes each. */
const BLOCK_HEADER_ROOM = 20;

/** A growing buffer with Avro's binary encodings of the few types the files need. */
class ByteWriter {
  private position = 0;
  /** The last text written and its encoding: the rows of a file mostly repeat one topic. */
  private lastText: string | null = null;
  private lastEncoded: Buffer = Buffer.alloc(0);

  constructor(private buffer: Buffer) {}

  /** The bytes written so far, valid until the next write. */
  view(): Buffer {
    return this.buffer.subarray(0, this.position);
  }

  bytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.position);
    this.position += bytes.length;
  }

  /** Skips `length` bytes, to be filled in later; returns where they start. */
  reserve(length: number): number {
    this.ensure(length);
    const at = this.position;
    this.position += length;
    return at;
  }

  /**
   * Writes a block's row count and byte size into the room reserved at `at` (BLOCK_HEADER_ROOM
   * bytes before the block's rows, which end here) and moves the rows down to follow them.
   */
  fillBlockHeader(at: number, rowCount: number): void {
    const rowsStart = at + BLOCK_HEADER_ROOM;
    const rowsEnd = this.position;
    this.position = at;
    this.long(rowCount);
    this.long(rowsEnd - rowsStart);
    this.buffer.copyWithin(this.position, rowsStart, rowsEnd);
    this.position += rowsEnd - rowsStart;
  }

  string(text: string): void {
    if (text !== this.lastText) {
      this.lastText = text;
      this.lastEncoded = Buffer.from(text, 'utf8');
    }
    this.long(this.lastEncoded.length);
    this.bytes(this.lastEncoded);
  }

  value(field: TrailingField, value: TrailingValue): void {
    if (field.type === 'string') {
      if (typeof value !== 'string') throw new TypeError(`trailing field ${field.name} takes a string`);
      this.string(value);
      return;
    }
    if (typeof value === 'string') throw new TypeError(`trailing field ${field.name} takes a number`);
    if (field.type === 'int' && (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31)) {
      throw new RangeError(`trailing field ${field.name} takes a 32-bit integer`);
    }
    this.long(value);
  }

  /** A zig-zag varint; exact for any safe integer and for a bigint within 64 bits. */
  long(value: number | bigint): void {
    this.ensure(10);
    // Doubled in floating point, a number stays exact up to 2^52; beyond, it goes the bigint way.
    if (typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) <= 2 ** 52) {
      let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
      while (zigzag >= 0x80) {
        this.buffer[this.position++] = (zigzag % 0x80) | 0x80;
        zigzag = Math.floor(zigzag / 0x80);
      }
      this.buffer[this.position++] = zigzag;
      return;
    }
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
    value = BigInt(value);
    if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new RangeError(`${value} does not fit in 64 bits`);
    let zigzag = value >= 0n ? value * 2n : -value * 2n - 1n;
    while (zigzag >= 0x80n) {
      this.buffer[this.position++] = Number(zigzag & 0x7fn) | 0x80;
      zigzag >>= 7n;
    }
    this.buffer[this.position++] = Number(zigzag);
  }

  private ensure(extra: number): void {
    if (this.position + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + extra));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}
