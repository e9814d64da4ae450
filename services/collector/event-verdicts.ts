import type { EventCodec } from '../adapters/schema-registry/event-codec.js';
import type { EventKind } from '../core/events/event-types.js';
import { validateOutcome, validatePrediction, type EventLimits } from '../core/events/event-validation.js';
import type { RejectionReason } from './dead-letter.js';

/**
 * What the collector makes of one record's value: stored, as the Avro body in this build's reader
 * schema (see DecodedEvent), or refused with the reason and a detail that names no value.
 */
export type EventVerdict = { accepted: true; schemaId: number; readerBody: Buffer } | { accepted: false; reason: RejectionReason; detail: string };

/** Decodes values of one topic's kind and checks each event's meaning. */
export async function judgeEvents(codec: EventCodec, values: readonly Buffer[], kind: EventKind, nowMs: number, limits: EventLimits): Promise<EventVerdict[]> {
  const decodedEvents = await codec.decodeAll(values, kind);
  return decodedEvents.map((decoded): EventVerdict => {
    if (!decoded.ok) return { accepted: false, reason: decoded.reason, detail: decoded.detail };
    const validation = decoded.kind === 'prediction' ? validatePrediction(decoded.event, nowMs, limits) : validateOutcome(decoded.event, nowMs, limits);
    if (!validation.valid) return { accepted: false, reason: 'invalid-event', detail: validation.detail };
    return { accepted: true, schemaId: decoded.schemaId, readerBody: decoded.readerBody };
  });
}
