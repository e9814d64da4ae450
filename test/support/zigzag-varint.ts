/** The Avro encoding of any 64-bit long, zig-zagged into a varint, as a writer would encode it. */
export function zigzagVarint(value: bigint): Buffer {
  let unsigned = value >= 0n ? value << 1n : ((-value) << 1n) - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(unsigned & 0x7fn);
    unsigned >>= 7n;
    bytes.push(unsigned === 0n ? low : low | 0x80);
  } while (unsigned !== 0n);
  return Buffer.from(bytes);
}
