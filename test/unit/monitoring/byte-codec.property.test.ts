import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../services/core/monitoring/byte-codec.js';

type Field = { kind: 'uint'; value: number } | { kind: 'double'; value: number } | { kind: 'string'; value: string } | { kind: 'byte'; value: number };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 127, 128, 16_383, 16_384, 2 ** 32, Number.MAX_SAFE_INTEGER)).map((value) => ({ kind: 'uint' as const, value })),
  fc.double().map((value) => ({ kind: 'double' as const, value })),
  fc.string({ unit: 'grapheme' }).map((value) => ({ kind: 'string' as const, value })),
  fc.constantFrom('\uFEFFkept', '', '\u0000\u001f\u007f').map((value) => ({ kind: 'string' as const, value })),
  fc.integer({ min: 0, max: 255 }).map((value) => ({ kind: 'byte' as const, value })),
);

function write(fields: readonly Field[]): Uint8Array {
  const out = new ByteWriter();
  for (const each of fields) {
    if (each.kind === 'uint') out.uint(each.value);
    else if (each.kind === 'double') out.double(each.value);
    else if (each.kind === 'string') out.string(each.value);
    else out.byte(each.value);
  }
  return out.finish();
}

function read(input: ByteReader, kind: Field['kind']): number | string {
  if (kind === 'uint') return input.uint();
  if (kind === 'double') return input.double();
  if (kind === 'string') return input.string();
  return input.byte();
}

describe('the byte codec', () => {
  it('reads back every field as written, to the last byte, however the writer had to grow', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 3000 }), (fields) => {
        const input = new ByteReader(write(fields));
        for (const each of fields) expect(Object.is(read(input, each.kind), each.value)).toBe(true);
        expect(input.atEnd).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('writes a varint in as few bytes as the value needs, at most 8', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (value) => {
        const bytes = write([{ kind: 'uint', value }]);
        expect(bytes.length).toBe(Math.max(1, Math.ceil(Math.log2(value + 1) / 7)));
        expect(bytes.length).toBeLessThanOrEqual(8);
      }),
    );
  });

  it('refuses what it cannot write: negative, fractional or unsafe integers, lone surrogates', () => {
    for (const value of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Infinity, NaN]) expect(() => new ByteWriter().uint(value)).toThrow(RangeError);
    expect(() => new ByteWriter().string('\uD800')).toThrow(RangeError);
  });

  it('reads any bytes as any fields without an error other than a RangeError, and never past the end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.constantFrom('uint' as const, 'double' as const, 'string' as const, 'byte' as const), { maxLength: 60 }), (bytes, kinds) => {
        const input = new ByteReader(bytes);
        try {
          for (const kind of kinds) read(input, kind);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
        }
        expect(input.remaining).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a declared count the bytes left cannot hold, a redundant varint byte and a string that is not UTF-8', () => {
    const out = new ByteWriter();
    out.uint(10);
    out.byte(1);
    expect(() => new ByteReader(out.finish()).count(1, 'items')).toThrow(/items: 10 declared, more than the 1 bytes left/);
    expect(() => new ByteReader(new Uint8Array([0x81, 0x00])).uint()).toThrow(/redundant/);
    expect(() => new ByteReader(new Uint8Array([2, 0xc3, 0x28])).string()).toThrow(/not UTF-8/);
  });
});
