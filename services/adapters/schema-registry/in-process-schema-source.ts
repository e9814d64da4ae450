import avro from 'avsc';
import type { SchemaSource, WriterSchemaLookup } from './schema-source.js';

/**
 * A registry held in memory for the embedded mode: ids are given out in registration order and a
 * schema registered twice under a subject keeps its id, as a Confluent registry does.
 */
export class InProcessSchemaSource implements SchemaSource {
  private readonly typesById = new Map<number, avro.Type>();
  private readonly idsByFingerprint = new Map<string, number>();

  async register(subject: string, schema: avro.Schema): Promise<number> {
    const type = avro.Type.forSchema(schema);
    const fingerprint = `${subject}\u0000${type.fingerprint('sha256').toString('hex')}`;
    const known = this.idsByFingerprint.get(fingerprint);
    if (known !== undefined) return known;
    const id = this.typesById.size + 1;
    this.typesById.set(id, type);
    this.idsByFingerprint.set(fingerprint, id);
    return id;
  }

  async writerType(schemaId: number): Promise<WriterSchemaLookup> {
    const type = this.typesById.get(schemaId);
    return type === undefined ? { found: false, reason: 'unknown-schema', detail: `schema id ${schemaId} is not in the registry` } : { found: true, type };
  }
}
