import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { type SchemaSource, SchemaSourceUnavailableError } from './schema-source.js';

/** A Confluent-compatible schema registry (Confluent, Apicurio's ccompat API, Redpanda, Karapace). */
export class ConfluentSchemaSource implements SchemaSource {
  private readonly registry: SchemaRegistry;

  constructor(registryUrl: string) {
    // The client retries on its own; a bounded retry keeps a registry outage visible to the caller.
    this.registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 } });
  }

  async register(subject: string, schema: avro.Schema): Promise<number> {
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    return id;
  }

  async writerType(schemaId: number): Promise<avro.Type | null> {
    try {
      return (await this.registry.getSchema(schemaId)) as unknown as avro.Type;
    } catch (error) {
      if (responseStatus(error) === 404) return null;
      throw new SchemaSourceUnavailableError(`schema registry could not return schema ${schemaId}`, { cause: error });
    }
  }
}

function responseStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = (error as { status: unknown }).status;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}
