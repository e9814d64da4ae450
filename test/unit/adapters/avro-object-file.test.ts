import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { avroObjectFile, extendRecordSchema, type TrailingField } from '../../../services/adapters/clickhouse/avro-object-file.js';
import { zigzagVarint } from '../../support/zigzag-varint.js';

/**
 * The container files the event store hands to ClickHouse are read back by avsc's own file decoder
 * (an independent reader of the format): every record is the body's value with the trailing fields
 * appended, in order, across block boundaries.
 */

const scratch = mkdtempSync(join(tmpdir(), 'vigil-avro-file-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bodySchema: avro.Schema = {
  type: 'record',
  name: 'Body',
  fields: [
    { name: 'text', type: 'string' },
    { name: 'numbers', type: { type: 'map', values: ['null', 'double', 'string'] } },
  ],
};
const trailing: TrailingField[] = [
  { name: 'topic', type: 'string' },
  { name: 'partition', type: 'int' },
  { name: 'offset', type: 'long' },
  { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
];
const bodyType = avro.Type.forSchema(bodySchema);
const schemaJson = JSON.stringify(extendRecordSchema(bodySchema, trailing));

async function readBack(file: Buffer): Promise<unknown[]> {
  const path = join(scratch, `${Math.random().toString(36).slice(2)}.avro`);
  writeFileSync(path, file);
  const records: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    avro.createFileDecoder(path).on('data', (record: object) => records.push({ ...record })).on('end', resolve).on('error', reject);
  });
  return records;
}

const text = fc.string({ unit: 'binary', maxLength: 12 });
const row = fc.record({
  body: fc.record({ text, numbers: fc.dictionary(text.filter((key) => key !== '__proto__'), fc.oneof(fc.constant(null), fc.double({ noNaN: true }), text), { maxKeys: 4, noNullPrototype: true }) }),
  // Long names too, beyond the room a file is first sized with per row.
  topic: fc.oneof(text, fc.string({ unit: 'grapheme', minLength: 64, maxLength: 300 })),
  partition: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  // avsc decodes longs in floating point, exact within ±2^52 (beyond, see the test of bigints).
  offset: fc.integer({ min: 0, max: 2 ** 31 }).chain((scale) => fc.integer({ min: -(2 ** 21), max: 2 ** 21 }).map((high) => high * 2 ** 31 + scale)),
  at: fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }),
});

describe('Avro object container files of encoded bodies', () => {
  it('read back, in any number of blocks, as each body with its trailing fields', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 9_000 / 100 }), fc.integer({ min: 0, max: 2 }), async (rows, repeat) => {
        // Repeated so that some files cross the 4,096 rows of a block.
        const many = repeat === 2 ? Array.from({ length: 4_200 }, (_, index) => rows[index % Math.max(rows.length, 1)]).filter((item) => item !== undefined) : rows;
        const file = avroObjectFile(schemaJson, trailing, many, (item) => bodyType.toBuffer(item.body), (item) => [item.topic, item.partition, item.offset, item.at]);
        const records = await readBack(file);
        expect(records).toEqual(many.map((item) => ({ ...item.body, topic: item.topic, partition: item.partition, offset: item.offset, at: item.at })));
      }),
      { seed: 20_261_202, numRuns: 60 },
    );
  });

  it('read back the same from a buffer handed in dirty, larger than asked or too small to hold the file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 40 }), fc.integer({ min: -4_000, max: 4_000 }), fc.integer({ min: 0, max: 255 }), async (rows, slack, fill) => {
        const asked: number[] = [];
        const allocate = (bytes: number): Buffer => {
          asked.push(bytes);
          return Buffer.alloc(Math.max(1, bytes + slack), fill);
        };
        const file = avroObjectFile(schemaJson, trailing, rows, (item) => bodyType.toBuffer(item.body), (item) => [item.topic, item.partition, item.offset, item.at], allocate);
        expect(asked).toHaveLength(1);
        expect(await readBack(file)).toEqual(rows.map((item) => ({ ...item.body, topic: item.topic, partition: item.partition, offset: item.offset, at: item.at })));
      }),
      { seed: 20_261_203, numRuns: 60 },
    );
  });

  it('encodes longs beyond 2^53 exactly as bigints, and refuses values that do not fit', () => {
    const longOnly: TrailingField[] = [{ name: 'offset', type: 'long' }];
    const file = (value: number | bigint | string): Buffer => avroObjectFile(JSON.stringify(extendRecordSchema(bodySchema, longOnly)), longOnly, [0], () => bodyType.toBuffer({ text: '', numbers: {} }), () => [value]);
    const zigzagTail = (value: bigint): string => zigzagVarint(value).toString('hex');
    for (const value of [2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)]) expect(file(value).toString('hex')).toContain(zigzagTail(value));
    // Safe integers beyond 2^52, whose zig-zag a double cannot hold, come out exact too.
    for (const value of [-5_028_331_285_645_122, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) expect(file(value).toString('hex')).toContain(zigzagTail(BigInt(value)));
    expect(() => file(2n ** 63n)).toThrow(RangeError);
    expect(() => file(2 ** 60)).toThrow(RangeError);
    expect(() => file('12')).toThrow(TypeError);
    const intOnly: TrailingField[] = [{ name: 'partition', type: 'int' }];
    expect(() => avroObjectFile(JSON.stringify(extendRecordSchema(bodySchema, intOnly)), intOnly, [0], () => bodyType.toBuffer({ text: '', numbers: {} }), () => [2 ** 31])).toThrow(RangeError);
  });
});
