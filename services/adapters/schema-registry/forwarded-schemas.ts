import avro from 'avsc';
import type { SchemaSource, WriterSchemaLookup } from './schema-source.js';

/** A writer schema lookup in a form that crosses to a worker thread: the schema itself, not its avsc type. */
export type ForwardedLookup = { found: true; schema: avro.Schema } | { found: false; reason: 'unknown-schema' | 'unsupported-schema'; detail: string };

/** Registry lookups of one batch run at most this many at a time, however many ids a batch names. */
const PARALLEL_LOOKUPS = 8;

/**
 * Looks writer schemas up on the thread that owns the registry client, for decoding on another. An
 * id's schema never changes, so every answer is remembered except "unknown", which the registry may
 * learn later; an outage rejects with the source's SchemaSourceUnavailableError, for the caller to retry.
 */
export class WriterSchemaCatalog {
  private readonly remembered = new Map<number, ForwardedLookup>();

  constructor(private readonly source: SchemaSource) {}

  async lookUp(schemaIds: ReadonlySet<number>): Promise<Map<number, ForwardedLookup>> {
    const answers = new Map<number, ForwardedLookup>();
    const pending: number[] = [];
    for (const schemaId of schemaIds) {
      const known = this.remembered.get(schemaId);
      if (known === undefined) pending.push(schemaId);
      else answers.set(schemaId, known);
    }
    const lookUpNext = async (): Promise<void> => {
      for (let schemaId = pending.pop(); schemaId !== undefined; schemaId = pending.pop()) {
        const answer = forwarded(await this.source.writerType(schemaId));
        if (answer.found || answer.reason !== 'unknown-schema') this.remembered.set(schemaId, answer);
        answers.set(schemaId, answer);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_LOOKUPS, pending.length) }, lookUpNext));
    return answers;
  }
}

function forwarded(lookup: WriterSchemaLookup): ForwardedLookup {
  return lookup.found ? { found: true, schema: lookup.type.schema({ exportAttrs: true }) } : lookup;
}

/**
 * The schema source of a decoding thread: it answers from the lookups the owning thread forwarded
 * for the batch at hand, and never registers anything.
 */
export class ForwardedSchemaSource implements SchemaSource {
  private readonly lookups = new Map<number, WriterSchemaLookup>();

  offer(lookups: Iterable<[number, ForwardedLookup]>): void {
    for (const [schemaId, lookup] of lookups) {
      if (lookup.found && this.lookups.get(schemaId)?.found) continue;
      this.lookups.set(schemaId, lookup.found ? { found: true, type: avro.Type.forSchema(lookup.schema) } : lookup);
    }
  }

  async register(): Promise<number> {
    throw new Error('a decoding thread registers no schemas');
  }

  async writerType(schemaId: number): Promise<WriterSchemaLookup> {
    return this.lookups.get(schemaId) ?? { found: false, reason: 'unknown-schema', detail: `schema id ${schemaId} is not in the registry` };
  }
}
