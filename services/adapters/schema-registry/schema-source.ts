import type avro from 'avsc';

/**
 * Where schemas are registered and looked up by id: a Confluent-compatible registry over HTTP, or
 * the in-process registry of the embedded mode. Both give the same wire format.
 */
export interface SchemaSource {
  /** Registers (or finds) the schema under the subject with BACKWARD compatibility; returns its id. */
  register(subject: string, schema: avro.Schema): Promise<number>;
  /**
   * The writer type registered under the id, or why there is none for this record: the registry
   * does not know the id, refused the lookup, or holds a schema Vigil cannot read (not Avro, or not
   * parseable). Rejects with a SchemaSourceUnavailableError only when the registry cannot be asked
   * right now (network, timeout, 5xx), so that the caller retries instead of dead-lettering.
   */
  writerType(schemaId: number): Promise<WriterSchemaLookup>;
}

export type WriterSchemaLookup =
  | { found: true; type: avro.Type }
  | { found: false; reason: 'unknown-schema' | 'unsupported-schema'; detail: string };

/** The registry could not answer; asking again later may help. */
export class SchemaSourceUnavailableError extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaSourceUnavailableError';
  }
}
