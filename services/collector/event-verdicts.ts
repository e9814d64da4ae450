import type { EventCodec } from '../adapters/schema-registry/event-codec.js';
import { verbatimCheckFor } from '../adapters/schema-registry/verbatim-event-check.js';
import { WIRE_HEADER_BYTES, readSchemaId } from '../adapters/schema-registry/wire-format.js';
import type { EventKind } from '../core/events/event-types.js';
import { validateOutcome, validatePrediction, type EventLimits } from '../core/events/event-validation.js';
import type { RejectionReason } from './dead-letter.js';

/**
 * What the collector makes of one record's value: stored, as the Avro body in this build's reader
 * schema (see DecodedEvent), or refused with the reason and a detail that names no value.
 */
export type EventVerdict = { accepted: true; schemaId: number; readerBody: Buffer } | { accepted: false; reason: RejectionReason; detail: string };

const verbatimChecks = { prediction: verbatimCheckFor('prediction'), outcome: verbatimCheckFor('outcome') };

/**
 * Decodes values of one topic's kind and checks each event's meaning. A value written in the reader
 * schema is first judged from its bytes (see verbatimCheckFor); only the ones that check leaves
 * undecided are decoded into events and validated, which also names the reason of every refusal.
 */
export async function judgeEvents(codec: EventCodec, values: readonly Buffer[], kind: EventKind, nowMs: number, limits: EventLimits): Promise<EventVerdict[]> {
  const schemas = await codec.resolveSchemas(values, kind);
  const verbatim = verbatimChecks[kind];
  // Batches hold one schema id or a few: the last answer is kept rather than asked per value.
  let lastSchemaId: number | null = null;
  let lastWrittenInReader = false;
  return values.map((value): EventVerdict => {
    const schemaId = readSchemaId(value);
    if (schemaId !== null && schemaId !== lastSchemaId) {
      lastSchemaId = schemaId;
      lastWrittenInReader = schemas.writtenInReaderSchema(schemaId);
    }
    if (verbatim !== null && schemaId !== null && lastWrittenInReader) {
      const body = value.subarray(WIRE_HEADER_BYTES);
      if (verbatim(body, nowMs, limits)) return { accepted: true, schemaId, readerBody: body };
    }
    const decoded = schemas.decode(value);
    if (!decoded.ok) return { accepted: false, reason: decoded.reason, detail: decoded.detail };
    const validation = decoded.kind === 'prediction' ? validatePrediction(decoded.event, nowMs, limits) : validateOutcome(decoded.event, nowMs, limits);
    if (!validation.valid) return { accepted: false, reason: 'invalid-event', detail: validation.detail };
    return { accepted: true, schemaId: decoded.schemaId, readerBody: decoded.readerBody };
  });
}
