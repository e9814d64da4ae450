import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { type SchemaSource, SchemaSourceUnavailableError, type WriterSchemaLookup } from './schema-source.js';

/** Larger answers are not a schema Vigil could decode with; reading them whole would cost memory. */
const MAX_SCHEMA_RESPONSE_BYTES = 1024 * 1024;
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Statuses that say nothing about the schema asked for: the registry is busy, timed out, or does not
 * accept these credentials. Like a 5xx they are an outage (retry, nothing dead-lettered): a rotated
 * password must stall the pipeline visibly, not send every event to the dead-letter topic.
 */
const OUTAGE_STATUSES = new Set([401, 403, 407, 408, 429]);

/** A Confluent-compatible schema registry (Confluent, Apicurio's ccompat API, Redpanda, Karapace). */
export class ConfluentSchemaSource implements SchemaSource {
  private readonly registry: SchemaRegistry;
  private readonly baseUrl: string;
  private readonly authorization: string | undefined;

  constructor(registryUrl: string) {
    // The client retries on its own; a bounded retry keeps a registry outage visible to the caller.
    this.registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 } });
    // fetch refuses URLs with credentials in them: they travel as a Basic authorization header instead.
    const url = new URL(registryUrl);
    this.authorization =
      url.username || url.password ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : undefined;
    url.username = '';
    url.password = '';
    this.baseUrl = url.toString().replace(/\/+$/, '');
  }

  async register(subject: string, schema: avro.Schema): Promise<number> {
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    return id;
  }

  /**
   * Looks the id up with a plain HTTP request rather than through the registry client, which
   * reports a refused connection as HTTP 400: only here can an outage be told from a bad id.
   */
  async writerType(schemaId: number): Promise<WriterSchemaLookup> {
    let response: Response;
    let body: string;
    try {
      response = await fetch(`${this.baseUrl}/schemas/ids/${schemaId}`, {
        headers: { accept: 'application/vnd.schemaregistry.v1+json, application/json', ...(this.authorization ? { authorization: this.authorization } : {}) },
        signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
      });
      body = await boundedText(response, MAX_SCHEMA_RESPONSE_BYTES);
    } catch (error) {
      if (error instanceof ResponseTooLargeError) return { found: false, reason: 'unsupported-schema', detail: `the registry's answer for schema ${schemaId} exceeds ${MAX_SCHEMA_RESPONSE_BYTES} bytes` };
      throw new SchemaSourceUnavailableError(`schema registry could not be asked for schema ${schemaId}: ${networkProblem(error)}`, { cause: error });
    }
    if (response.status === 404) return { found: false, reason: 'unknown-schema', detail: `schema id ${schemaId} is not in the registry` };
    if (response.status >= 500 || OUTAGE_STATUSES.has(response.status)) {
      throw new SchemaSourceUnavailableError(`schema registry answered HTTP ${response.status} for schema ${schemaId}`);
    }
    if (!response.ok) return { found: false, reason: 'unknown-schema', detail: `the registry refused the lookup of schema ${schemaId} with HTTP ${response.status}` };
    return parseRegisteredSchema(schemaId, body);
  }
}

/** The registry's answer for one id: `{ "schema": "<schema text>", "schemaType"?: "AVRO" | "JSON" | "PROTOBUF" }`. */
export function parseRegisteredSchema(schemaId: number, body: string): WriterSchemaLookup {
  const unsupported = (detail: string): WriterSchemaLookup => ({ found: false, reason: 'unsupported-schema', detail: `schema ${schemaId} ${detail}` });
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return unsupported('came back as something other than JSON');
  }
  if (typeof answer !== 'object' || answer === null || typeof (answer as { schema?: unknown }).schema !== 'string') return unsupported('came back without its schema text');
  const { schema, schemaType } = answer as { schema: string; schemaType?: unknown };
  if (schemaType !== undefined && schemaType !== 'AVRO') return unsupported(`is a ${String(schemaType).slice(0, 40)} schema; Vigil reads Avro`);
  try {
    return { found: true, type: avro.Type.forSchema(JSON.parse(schema) as avro.Schema) };
  } catch (error) {
    return unsupported(`does not parse as an Avro schema: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`);
  }
}

class ResponseTooLargeError extends Error {}

async function boundedText(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new ResponseTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkProblem(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 200);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`.slice(0, 300);
}
