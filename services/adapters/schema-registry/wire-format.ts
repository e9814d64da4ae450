/** Confluent wire format: magic byte 0, a big-endian 32-bit schema id, then the Avro binary body. */

export const WIRE_HEADER_BYTES = 5;
const MAGIC_BYTE = 0;

export function frameWithSchemaId(schemaId: number, body: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(WIRE_HEADER_BYTES + body.length);
  framed.writeUInt8(MAGIC_BYTE, 0);
  framed.writeInt32BE(schemaId, 1);
  body.copy(framed, WIRE_HEADER_BYTES);
  return framed;
}

/** The schema id of a framed message, or null when the bytes are not in the wire format. */
export function readSchemaId(framed: Buffer): number | null {
  if (framed.length < WIRE_HEADER_BYTES || framed.readUInt8(0) !== MAGIC_BYTE) return null;
  return framed.readInt32BE(1);
}
