import type avro from 'avsc';

/**
 * Where schemas are registered and looked up by id: a Confluent-compatible registry over HTTP, or
 * the in-process registry of the embedded mode. Both give the same wire format.
 */
export interface SchemaSource {
  /** Registers (or finds) the schema under the subject with BACKWARD compatibility; returns its id. */
  register(subject: string, schema: avro.Schema): Promise<number>;
  /**
   * The writer type registered under the id. Resolves to null when the registry does not know the
   * id; rejects with a SchemaSourceUnavailableError when the registry cannot be asked right now.
   */
  writerType(schemaId: number): Promise<avro.Type | null>;
}

/** The registry could not answer; asking again later may help. */
export class SchemaSourceUnavailableError extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaSourceUnavailableError';
  }
}
