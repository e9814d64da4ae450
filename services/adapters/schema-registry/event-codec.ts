import type avro from 'avsc';
import type { EventKind, OutcomeEvent, OutcomeLabel, PredictionEvent } from '../../core/events/event-types.js';
import { type BodyGuard, compileBodyGuard } from './avro-body-guard.js';
import { eventSchemas, valueSubject } from './event-schemas.js';
import type { SchemaSource } from './schema-source.js';
import { WIRE_HEADER_BYTES, frameWithSchemaId, readSchemaId } from './wire-format.js';

/**
 * Why a message could not be decoded; each is a dead-letter reason and a metric label value.
 * 'undecodable' bodies were refused by the body guard before avsc saw them (counts or lengths the
 * bytes cannot back, truncation, bad indexes, too deep nesting); 'malformed-avro' bodies passed the
 * guard but avsc still rejected them.
 */
export type DecodeFailureReason =
  | 'not-wire-format'
  | 'unknown-schema'
  | 'unsupported-schema'
  | 'wrong-event-type'
  | 'incompatible-schema'
  | 'undecodable'
  | 'malformed-avro';

/**
 * A decoded event carries `readerBody`, its Avro body in this build's reader schema: the bytes as
 * they came when they say exactly what `event` says (written with the reader schema, maps without
 * repeated keys, text in valid UTF-8), otherwise `event` encoded anew. Storage reads that body, so
 * what is stored is always the event that was validated.
 */
export type DecodedEvent =
  | { ok: true; kind: 'prediction'; schemaId: number; event: PredictionEvent; readerBody: Buffer }
  | { ok: true; kind: 'outcome'; schemaId: number; event: OutcomeEvent; readerBody: Buffer }
  | { ok: false; reason: DecodeFailureReason; detail: string; schemaId: number | null };

/** What avsc yields for the ambiguous ["int", "double", "string"] label union: a wrapped branch. */
export type WireLabel = { int: number } | { double: number } | { string: string };

function labelFromWire(wire: WireLabel): OutcomeLabel {
  if ('int' in wire) return { kind: 'binary', value: wire.int };
  if ('double' in wire) return { kind: 'regression', value: wire.double };
  return { kind: 'class', value: wire.string };
}

/** The label as avsc encodes the ambiguous union: wrapped in its branch name. */
export function labelToWire(label: OutcomeLabel): WireLabel {
  switch (label.kind) {
    case 'binary':
      return { int: label.value };
    case 'regression':
      return { double: label.value };
    case 'class':
      return { string: label.value };
  }
}

type Resolution =
  | { ok: true; resolver: avro.Resolver; guardBody: BodyGuard; writerIsReader: boolean }
  | { ok: false; reason: 'wrong-event-type' | 'incompatible-schema' | 'unknown-schema' | 'unsupported-schema'; detail: string };

/** The writer schemas of one batch, looked up. */
export interface BatchSchemas {
  /** Whether messages of this schema id are written in this build's reader schema itself. */
  writtenInReaderSchema(schemaId: number): boolean;
  decode(message: Buffer): DecodedEvent;
}

/** Registry lookups of one batch run at most this many at a time, however many ids a batch names. */
const PARALLEL_LOOKUPS = 8;

/**
 * Encodes and decodes events in the Confluent wire format. Writers may use any schema version the
 * registry accepted under BACKWARD compatibility; every message is resolved into the reader schema
 * of this build, and the resolver is made once per writer schema id. Each body is first checked by
 * a guard compiled from its writer schema, so that decoding costs time and memory proportional to
 * the body's own bytes whatever counts and lengths it declares.
 */
export class EventCodec {
  private readonly resolutions = new Map<string, Resolution>();
  private readonly registeredIds = new Map<string, number>();

  constructor(readonly schemaSource: SchemaSource) {}

  /** Registers this build's schemas for the given topics (idempotent); returns their ids. */
  async registerSchemas(topics: { predictions: string; outcomes: string }): Promise<{ predictions: number; outcomes: number }> {
    return {
      predictions: await this.schemaIdFor(topics.predictions, 'prediction'),
      outcomes: await this.schemaIdFor(topics.outcomes, 'outcome'),
    };
  }

  async encodePrediction(topic: string, event: PredictionEvent): Promise<Buffer> {
    const schemaId = await this.schemaIdFor(topic, 'prediction');
    return frameWithSchemaId(schemaId, eventSchemas.prediction.readerType.toBuffer(event));
  }

  async encodeOutcome(topic: string, event: OutcomeEvent): Promise<Buffer> {
    const schemaId = await this.schemaIdFor(topic, 'outcome');
    const wire = { ...event, label: labelToWire(event.label) };
    return frameWithSchemaId(schemaId, eventSchemas.outcome.readerType.toBuffer(wire));
  }

  /**
   * Decodes one message expected to hold an event of `expected` kind. Rejects (throws) only when
   * the registry cannot be asked right now, so that the caller retries instead of dead-lettering.
   */
  async decode(message: Buffer, expected: EventKind): Promise<DecodedEvent> {
    const [decoded] = await this.decodeAll([message], expected);
    return decoded as DecodedEvent;
  }

  /**
   * Decodes a batch: the registry is asked once per schema id not seen before (in parallel), then
   * every message is decoded synchronously, which keeps the per-event cost to the Avro decoding itself.
   */
  async decodeAll(messages: readonly Buffer[], expected: EventKind): Promise<DecodedEvent[]> {
    const schemas = await this.resolveSchemas(messages, expected);
    return messages.map((message) => schemas.decode(message));
  }

  /**
   * Looks up the writer schemas a batch names (once per id not seen before, in parallel) and returns
   * what decodes its messages. Rejects only when the registry cannot be asked right now.
   */
  async resolveSchemas(messages: readonly Buffer[], expected: EventKind): Promise<BatchSchemas> {
    const unresolved = new Set<number>();
    for (const message of messages) {
      const schemaId = readSchemaId(message);
      if (schemaId !== null && !this.resolutions.has(resolutionKey(expected, schemaId))) unresolved.add(schemaId);
    }
    const lookedUp = new Map<number, Resolution>();
    const pending = [...unresolved];
    const lookUpNext = async (): Promise<void> => {
      for (let schemaId = pending.pop(); schemaId !== undefined; schemaId = pending.pop()) lookedUp.set(schemaId, await this.resolve(schemaId, expected));
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_LOOKUPS, pending.length) }, lookUpNext));
    const resolutionOf = (schemaId: number): Resolution | undefined => this.resolutions.get(resolutionKey(expected, schemaId)) ?? lookedUp.get(schemaId);
    return {
      writtenInReaderSchema: (schemaId) => {
        const resolution = resolutionOf(schemaId);
        return resolution !== undefined && resolution.ok && resolution.writerIsReader;
      },
      decode: (message) => decodeResolved(message, expected, resolutionOf),
    };
  }

  private async schemaIdFor(topic: string, kind: EventKind): Promise<number> {
    const subject = valueSubject(topic);
    const known = this.registeredIds.get(subject);
    if (known !== undefined) return known;
    const id = await this.schemaSource.register(subject, eventSchemas[kind].schema);
    this.registeredIds.set(subject, id);
    return id;
  }

  /**
   * Resolves a writer schema into the reader schema, remembered per id: a registry never changes
   * what an id means. An id the registry does not know (or refused to look up) is not remembered,
   * so that a registry that lost and regained a schema is asked again next batch.
   */
  private async resolve(schemaId: number, expected: EventKind): Promise<Resolution> {
    const lookup = await this.schemaSource.writerType(schemaId);
    if (!lookup.found && lookup.reason === 'unknown-schema') return { ok: false, reason: lookup.reason, detail: lookup.detail };
    const reader = eventSchemas[expected];
    let resolution: Resolution;
    if (!lookup.found) {
      resolution = { ok: false, reason: lookup.reason, detail: lookup.detail };
    } else if (lookup.type.name !== reader.fullName) {
      resolution = { ok: false, reason: 'wrong-event-type', detail: `schema ${schemaId} is ${lookup.type.name ?? 'an unnamed type'}, expected ${reader.fullName}` };
    } else {
      try {
        resolution = {
          ok: true,
          resolver: reader.readerType.createResolver(lookup.type),
          guardBody: compileBodyGuard(lookup.type),
          writerIsReader: lookup.type.equals(reader.readerType),
        };
      } catch (error) {
        resolution = { ok: false, reason: 'incompatible-schema', detail: `schema ${schemaId} cannot be read as ${reader.fullName}: ${errorMessage(error)}` };
      }
    }
    this.resolutions.set(resolutionKey(expected, schemaId), resolution);
    return resolution;
  }
}

const resolutionKey = (expected: EventKind, schemaId: number): string => `${expected}:${schemaId}`;

function decodeResolved(message: Buffer, expected: EventKind, resolutionOf: (schemaId: number) => Resolution | undefined): DecodedEvent {
  const schemaId = readSchemaId(message);
  if (schemaId === null) {
    return { ok: false, reason: 'not-wire-format', detail: 'the message does not start with the Confluent magic byte and a schema id', schemaId: null };
  }
  const resolution = resolutionOf(schemaId);
  if (resolution === undefined) {
    return { ok: false, reason: 'unknown-schema', detail: `schema id ${schemaId} is not in the registry`, schemaId };
  }
  if (!resolution.ok) return { ok: false, reason: resolution.reason, detail: resolution.detail, schemaId };
  const body = message.subarray(WIRE_HEADER_BYTES);
  const verdict = resolution.guardBody(body);
  if (!verdict.ok) return { ok: false, reason: 'undecodable', detail: `${verdict.path}: ${verdict.detail}`, schemaId };
  const reader = eventSchemas[expected];
  let decoded: unknown;
  try {
    decoded = reader.readerType.fromBuffer(body, resolution.resolver);
  } catch (error) {
    return { ok: false, reason: 'malformed-avro', detail: `the Avro body does not match schema ${schemaId}: ${errorMessage(error)}`, schemaId };
  }
  const bytesSayAll = resolution.writerIsReader && verdict.textIsUtf8 && verdict.mapEntries === reader.countMapEntries(decoded);
  const readerBody = bytesSayAll ? body : reader.readerType.toBuffer(decoded);
  if (expected === 'prediction') return { ok: true, kind: 'prediction', schemaId, event: decoded as PredictionEvent, readerBody };
  const wire = decoded as Omit<OutcomeEvent, 'label'> & { label: WireLabel };
  return { ok: true, kind: 'outcome', schemaId, event: { ...wire, label: labelFromWire(wire.label) }, readerBody };
}

function errorMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
