import { isUtf8 } from 'node:buffer';
import avro from 'avsc';
import type { EventKind } from '../../core/events/event-types.js';
import { entityKeyProblem, eventTimeProblem, identifierProblem, isProbability, modelIdProblem, type EventLimits } from '../../core/events/event-validation.js';
import { eventSchemas } from './event-schemas.js';

/**
 * Judges an event body written in this build's reader schema straight from its bytes, without
 * building the decoded event: the collector's fast path for the events every producer sends.
 *
 * `true` means the body is exactly what decoding and validating it would accept and store as it
 * came: one canonical value of the reader schema (no trailing bytes, booleans 0 or 1, no repeated or
 * `__proto__` map keys, text in valid UTF-8) that passes every check of validatePrediction or
 * validateOutcome. `false` means only "not decided here": the caller then decodes and validates the
 * body the slow way, which finds the reason for a refusal. So a false `false` costs time, never a
 * verdict, and anything unusual (negative block counts, long varints, maps of more than
 * MAX_CHECKED_MAP_ENTRIES entries, key hashes that collide) is simply left to the slow way.
 *
 * The walk reads each byte at most a few times and builds only the strings the checks need as
 * strings (identifiers, model id, entity key), so its cost is linear in the body and it allocates
 * no per-entry objects. Any read past the end stops the walk.
 */
export type VerbatimCheck = (body: Buffer, nowMs: number, limits: EventLimits) => boolean;

/** Maps with more entries are left to the slow way: the repeated-key check here is quadratic. */
export const MAX_CHECKED_MAP_ENTRIES = 64;

/** The reader schemas the walks below are written for, field by field, in order. */
const WALKED_SCHEMAS: Record<EventKind, avro.Schema> = {
  prediction: {
    type: 'record',
    name: 'PredictionEvent',
    namespace: 'dev.vigil.events',
    fields: [
      { name: 'event_id', type: 'string' },
      { name: 'model_id', type: 'string' },
      { name: 'model_version', type: 'string' },
      { name: 'prediction_id', type: 'string' },
      { name: 'occurred_at', type: 'long' },
      { name: 'entity_key', type: 'string' },
      { name: 'features', type: { type: 'map', values: ['null', 'double', 'string', 'boolean'] } },
      { name: 'score', type: 'double' },
      { name: 'predicted_label', type: ['null', 'int'] },
      { name: 'decision_threshold', type: ['null', 'double'] },
      { name: 'segments', type: { type: 'map', values: 'string' } },
      {
        name: 'producer',
        type: {
          type: 'record',
          name: 'ProducerInfo',
          fields: [
            { name: 'service', type: 'string' },
            { name: 'request_id', type: ['null', 'string'] },
          ],
        },
      },
      { name: 'input_hash', type: ['null', 'string'] },
    ],
  },
  outcome: {
    type: 'record',
    name: 'OutcomeEvent',
    namespace: 'dev.vigil.events',
    fields: [
      { name: 'event_id', type: 'string' },
      { name: 'model_id', type: 'string' },
      { name: 'prediction_id', type: 'string' },
      { name: 'observed_at', type: 'long' },
      { name: 'label', type: ['int', 'double', 'string'] },
      { name: 'source', type: 'string' },
    ],
  },
};

/**
 * The check for bodies of `kind`, or null when this build's reader schema is no longer the one the
 * walk was written for (every body then takes the slow way, which is always right).
 */
export function verbatimCheckFor(kind: EventKind): VerbatimCheck | null {
  // Canonical forms drop docs, defaults and logical types, none of which changes the encoding.
  if (!avro.Type.forSchema(WALKED_SCHEMAS[kind]).equals(eventSchemas[kind].readerType)) return null;
  return kind === 'prediction' ? checkPrediction : checkOutcome;
}

/** Thrown (without a stack) to end a walk that cannot decide; caught once per body. */
const UNDECIDED = Symbol('undecided');

/** Zig-zag encodings of the union branch indexes 0-3, each a single byte. */
const BRANCH = [0, 2, 4, 6] as const;
const PROTOTYPE_KEY = Buffer.from('__proto__');
/** An int of 0 or 1 written as its canonical single byte. */
const isBinaryInt = (byte: number): boolean => byte === 0 || byte === 2;

/** One walk's position; the class is reused, its state reset per body. */
class ByteCursor {
  body: Buffer = Buffer.alloc(0);
  position = 0;
  /** Hashes of the keys of the map being walked, for the repeated-key check. */
  private readonly keyHashes = new Int32Array(MAX_CHECKED_MAP_ENTRIES);
  /** Start, byte length and FNV-1a hash of the bytes of the last text read. */
  textStart = 0;
  textBytes = 0;
  textHash = 0;

  reset(body: Buffer): void {
    this.body = body;
    this.position = 0;
  }

  atEnd(): boolean {
    return this.position === this.body.length;
  }

  byte(): number {
    if (this.position >= this.body.length) throw UNDECIDED;
    return this.body[this.position++] as number;
  }

  /** A non-negative zig-zag varint of at most 4 bytes (below 2^27): lengths and block counts. */
  smallCount(): number {
    let unsigned = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = this.byte();
      unsigned |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        if (unsigned & 1) throw UNDECIDED;
        return unsigned >>> 1;
      }
    }
    throw UNDECIDED;
  }

  /** A zig-zag long of at most 7 bytes (magnitude below 2^48, exact in a double). */
  long(): number {
    let unsigned = 0;
    let scale = 1;
    for (let index = 0; index < 7; index++) {
      const byte = this.byte();
      unsigned += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
    }
    throw UNDECIDED;
  }

  double(): number {
    if (this.position + 8 > this.body.length) throw UNDECIDED;
    const value = this.body.readDoubleLE(this.position);
    this.position += 8;
    return value;
  }

  /** A union branch written as its canonical single byte; returns the branch index. */
  branch(branches: number): number {
    const byte = this.byte();
    for (let index = 0; index < branches; index++) if (BRANCH[index] === byte) return index;
    throw UNDECIDED;
  }

  /**
   * Walks over a string, which must be valid UTF-8; returns its length in UTF-16 code units, the
   * length JavaScript (and so the validation) sees.
   */
  text(): number {
    const length = this.smallCount();
    const start = this.position;
    const end = start + length;
    if (end > this.body.length) throw UNDECIDED;
    this.position = end;
    this.textStart = start;
    this.textBytes = length;
    const body = this.body;
    let hash = 0x811c9dc5;
    let ascii = true;
    for (let index = start; index < end; index++) {
      const byte = body[index] as number;
      if (byte >= 0x80) ascii = false;
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    this.textHash = hash;
    if (ascii) return length;
    if (!isUtf8(body.subarray(start, end))) throw UNDECIDED;
    // Every character starts with a non-continuation byte; those of four bytes take two units.
    let units = 0;
    for (let index = start; index < end; index++) {
      const byte = body[index] as number;
      if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
    }
    return units;
  }

  /** The last text read, as a JavaScript string. */
  lastText(): string {
    return this.body.toString('utf8', this.textStart, this.textStart + this.textBytes);
  }

  /** A string that must pass the identifier check under `name`; returns it. */
  identifier(name: string, limits: EventLimits): string {
    this.text();
    const value = this.lastText();
    if (identifierProblem(name, value, limits) !== null) throw UNDECIDED;
    return value;
  }

  /**
   * Walks a map of at most `maxEntries` entries, calling `entry` with the cursor on each value
   * after its key. Keys must be distinct by hash, and none may be `__proto__`.
   */
  map(maxEntries: number, limits: EventLimits, entry: (cursor: ByteCursor, keyUnits: number, limits: EventLimits) => void): void {
    const limit = Math.min(maxEntries, MAX_CHECKED_MAP_ENTRIES);
    let entries = 0;
    for (let count = this.smallCount(); count !== 0; count = this.smallCount()) {
      if (entries + count > limit) throw UNDECIDED;
      for (let item = 0; item < count; item++) {
        const keyUnits = this.text();
        const hash = this.textHash;
        for (let earlier = 0; earlier < entries; earlier++) if (this.keyHashes[earlier] === hash) throw UNDECIDED;
        this.keyHashes[entries++] = hash;
        if (this.textBytes === PROTOTYPE_KEY.length && this.body.compare(PROTOTYPE_KEY, 0, PROTOTYPE_KEY.length, this.textStart, this.textStart + this.textBytes) === 0) {
          throw UNDECIDED;
        }
        entry(this, keyUnits, limits);
      }
    }
  }
}

const cursor = new ByteCursor();

function featureEntry(entryCursor: ByteCursor, nameUnits: number, limits: EventLimits): void {
  if (nameUnits === 0 || nameUnits > limits.maxIdentifierLength) throw UNDECIDED;
  switch (entryCursor.branch(4)) {
    case 0:
      return;
    case 1:
      if (!Number.isFinite(entryCursor.double())) throw UNDECIDED;
      return;
    case 2:
      if (entryCursor.text() > limits.maxStringValueLength) throw UNDECIDED;
      return;
    default:
      if (entryCursor.byte() > 1) throw UNDECIDED;
  }
}

function segmentEntry(entryCursor: ByteCursor, nameUnits: number, limits: EventLimits): void {
  if (nameUnits === 0 || nameUnits > limits.maxIdentifierLength) throw UNDECIDED;
  if (entryCursor.text() > limits.maxIdentifierLength) throw UNDECIDED;
}

function checkPrediction(body: Buffer, nowMs: number, limits: EventLimits): boolean {
  cursor.reset(body);
  try {
    cursor.identifier('event_id', limits);
    cursor.text();
    if (modelIdProblem(cursor.lastText()) !== null) return false;
    cursor.identifier('model_version', limits);
    cursor.identifier('prediction_id', limits);
    if (eventTimeProblem('occurred_at', cursor.long(), nowMs, limits) !== null) return false;
    if (entityKeyProblem(cursor.identifier('entity_key', limits)) !== null) return false;
    cursor.map(limits.maxFeatures, limits, featureEntry);
    if (!isProbability(cursor.double())) return false;
    if (cursor.branch(2) === 1 && !isBinaryInt(cursor.byte())) return false;
    if (cursor.branch(2) === 1 && !isProbability(cursor.double())) return false;
    cursor.map(limits.maxSegments, limits, segmentEntry);
    cursor.identifier('producer.service', limits);
    if (cursor.branch(2) === 1) cursor.text();
    if (cursor.branch(2) === 1 && cursor.text() > limits.maxIdentifierLength) return false;
    return cursor.atEnd();
  } catch (error) {
    if (error === UNDECIDED) return false;
    throw error;
  }
}

function checkOutcome(body: Buffer, nowMs: number, limits: EventLimits): boolean {
  cursor.reset(body);
  try {
    cursor.identifier('event_id', limits);
    cursor.text();
    if (modelIdProblem(cursor.lastText()) !== null) return false;
    cursor.identifier('prediction_id', limits);
    if (eventTimeProblem('observed_at', cursor.long(), nowMs, limits) !== null) return false;
    switch (cursor.branch(3)) {
      case 0:
        if (!isBinaryInt(cursor.byte())) return false;
        break;
      case 1:
        if (!Number.isFinite(cursor.double())) return false;
        break;
      default: {
        const units = cursor.text();
        if (units === 0 || units > limits.maxIdentifierLength) return false;
      }
    }
    cursor.identifier('source', limits);
    return cursor.atEnd();
  } catch (error) {
    if (error === UNDECIDED) return false;
    throw error;
  }
}
