import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH, compileBodyGuard, valueBudget } from '../../../services/adapters/schema-registry/avro-body-guard.js';
import { EventCodec, labelToWire, type DecodedEvent } from '../../../services/adapters/schema-registry/event-codec.js';
import { eventSchemas } from '../../../services/adapters/schema-registry/event-schemas.js';
import { InProcessSchemaSource } from '../../../services/adapters/schema-registry/in-process-schema-source.js';
import { WIRE_HEADER_BYTES, frameWithSchemaId } from '../../../services/adapters/schema-registry/wire-format.js';
import type { EventKind, OutcomeEvent, OutcomeLabel, PredictionEvent } from '../../../services/core/events/event-types.js';
import { samplePrediction } from '../../support/sample-events.js';
import { zigzagVarint } from '../../support/zigzag-varint.js';

const topics = { predictions: 'p.v1', outcomes: 'o.v1' };
const SEED = 20_260_401;

async function codecWithSchemas(): Promise<{ codec: EventCodec; source: InProcessSchemaSource; ids: { predictions: number; outcomes: number } }> {
  const source = new InProcessSchemaSource();
  const codec = new EventCodec(source);
  return { codec, source, ids: await codec.registerSchemas(topics) };
}

// Arbitrary events. Strings span all of Unicode (no lone surrogates, which UTF-8 cannot carry).
const text = fc.string({ unit: 'binary', maxLength: 20 });
// avsc builds a decoded map by assigning `map[key] = value` on a plain object, so a "__proto__"
// key sets the map's prototype instead of becoming an entry: such an event cannot round-trip.
const mapKey = text.filter((key) => key !== '__proto__');
const featureValue = fc.oneof(fc.constant(null), fc.double(), text, fc.boolean());
// avsc zig-zags longs in floating point, which doubles them: beyond ±2^52 odd values are encoded as
// their neighbours, so only longs within ±2^52 (epoch milliseconds for ±142 000 years) round-trip.
const exactLong = fc.bigInt({ min: -(2n ** 52n), max: 2n ** 52n }).map(Number);

const predictionArbitrary: fc.Arbitrary<PredictionEvent> = fc.record({
  event_id: text,
  model_id: text,
  model_version: text,
  prediction_id: text,
  occurred_at: exactLong,
  entity_key: text,
  features: fc.dictionary(mapKey, featureValue, { maxKeys: 12, noNullPrototype: true }),
  score: fc.double(),
  predicted_label: fc.option(fc.integer(), { nil: null }),
  decision_threshold: fc.option(fc.double(), { nil: null }),
  segments: fc.dictionary(mapKey, text, { maxKeys: 6, noNullPrototype: true }),
  producer: fc.record({ service: text, request_id: fc.option(text, { nil: null }) }),
  input_hash: fc.option(text, { nil: null }),
});

const labelArbitrary: fc.Arbitrary<OutcomeLabel> = fc.oneof(
  fc.record({ kind: fc.constant('binary' as const), value: fc.integer() }),
  fc.record({ kind: fc.constant('regression' as const), value: fc.double() }),
  fc.record({ kind: fc.constant('class' as const), value: text }),
);

const outcomeArbitrary: fc.Arbitrary<OutcomeEvent> = fc.record({
  event_id: text,
  model_id: text,
  prediction_id: text,
  observed_at: exactLong,
  label: labelArbitrary,
  source: text,
});

/** The avsc representation of an event: outcome labels are wrapped in their union branch. */
function wireValue(kind: EventKind, event: PredictionEvent | OutcomeEvent): unknown {
  return kind === 'outcome' ? { ...event, label: labelToWire((event as OutcomeEvent).label) } : event;
}

/**
 * An Avro encoder independent of the guard that also reports where each count and length varint
 * sits in the body, so that tests can lie about exactly those. Checked against avsc's own encoding.
 */
type SiteKind = 'map count' | 'array count' | 'string length' | 'long';
interface Site {
  offset: number;
  length: number;
  kind: SiteKind;
}

const longType = avro.Type.forSchema('long');

function encodeWithSites(type: avro.Type, value: unknown): { body: Buffer; sites: Site[] } {
  const chunks: Buffer[] = [];
  const sites: Site[] = [];
  let offset = 0;
  const emit = (bytes: Buffer, kind?: SiteKind): void => {
    if (kind !== undefined) sites.push({ offset, length: bytes.length, kind });
    chunks.push(bytes);
    offset += bytes.length;
  };
  const emitString = (value: string): void => {
    const bytes = Buffer.from(value, 'utf8');
    emit(longType.toBuffer(bytes.length), 'string length');
    emit(bytes);
  };
  const emitBlocks = (count: number, kind: SiteKind, emitItems: () => void): void => {
    if (count > 0) {
      emit(longType.toBuffer(count), kind);
      emitItems();
    }
    emit(longType.toBuffer(0));
  };
  const visit = (type: avro.Type, value: unknown): void => {
    switch (type.typeName) {
      case 'record':
        for (const field of (type as avro.types.RecordType).fields) visit(field.type, (value as Record<string, unknown>)[field.name]);
        return;
      case 'map': {
        const entries = Object.entries(value as Record<string, unknown>);
        emitBlocks(entries.length, 'map count', () => {
          for (const [key, entryValue] of entries) {
            emitString(key);
            visit((type as avro.types.MapType).valuesType, entryValue);
          }
        });
        return;
      }
      case 'array': {
        const items = value as unknown[];
        emitBlocks(items.length, 'array count', () => {
          for (const item of items) visit((type as avro.types.ArrayType).itemsType, item);
        });
        return;
      }
      case 'union:unwrapped': {
        const branches = (type as avro.types.UnwrappedUnionType).types;
        const index = branches.findIndex((branch) => branch.isValid(value));
        emit(longType.toBuffer(index));
        visit(branches[index] as avro.Type, value);
        return;
      }
      case 'union:wrapped': {
        const branches = (type as avro.types.WrappedUnionType).types;
        const [branchName, branchValue] = value === null ? ['null', null] : (Object.entries(value as object)[0] as [string, unknown]);
        const index = branches.findIndex((branch) => branch.branchName === branchName);
        emit(longType.toBuffer(index));
        visit(branches[index] as avro.Type, branchValue);
        return;
      }
      case 'string':
        emitString(value as string);
        return;
      case 'long':
        emit(type.toBuffer(value), 'long');
        return;
      default:
        emit(type.toBuffer(value));
    }
  };
  visit(type, value);
  const body = Buffer.concat(chunks);
  expect(body.equals(type.toBuffer(value))).toBe(true);
  return { body, sites };
}


/** Declared counts and lengths that no body of these tests has the bytes for. */
const HOSTILE_VARINTS: readonly { name: string; bytes: Buffer }[] = [
  { name: '2^40', bytes: zigzagVarint(2n ** 40n) },
  { name: '2^62', bytes: zigzagVarint(2n ** 62n) },
  { name: '5 000 000', bytes: zigzagVarint(5_000_000n) },
  { name: 'the largest long (10 bytes)', bytes: zigzagVarint(2n ** 63n - 1n) },
  { name: 'the smallest long (10 bytes)', bytes: zigzagVarint(-(2n ** 63n)) },
  { name: 'a varint of 11 bytes', bytes: Buffer.from([...Array<number>(10).fill(0xff), 0x01]) },
  { name: '-1', bytes: zigzagVarint(-1n) },
  { name: 'a negative count of 2^40 with a byte size of 2^40', bytes: Buffer.concat([zigzagVarint(-(2n ** 40n)), zigzagVarint(2n ** 40n)]) },
  { name: 'a negative count of 2^62 with a byte size of 1', bytes: Buffer.concat([zigzagVarint(-(2n ** 62n)), zigzagVarint(1n)]) },
  // avsc skips a block the reader does not need by jumping its byte size: -2 jumps back forever.
  { name: 'a count of -1 with a byte size of -2', bytes: Buffer.concat([zigzagVarint(-1n), zigzagVarint(-2n)]) },
];

function splice(body: Buffer, site: Site, replacement: Buffer): Buffer {
  return Buffer.concat([body.subarray(0, site.offset), replacement, body.subarray(site.offset + site.length)]);
}

/** The parts of the avsc type classes that hold other types. */
interface ComposedType {
  fields?: readonly { name: string; type: avro.Type }[];
  types?: readonly avro.Type[];
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  underlyingType?: avro.Type;
}

function fieldNames(type: avro.Type, names = new Set<string>(), seen = new Set<avro.Type>()): Set<string> {
  if (seen.has(type)) return names;
  seen.add(type);
  const composed = type as ComposedType;
  for (const field of composed.fields ?? []) {
    names.add(field.name);
    fieldNames(field.type, names, seen);
  }
  for (const inner of [...(composed.types ?? []), composed.itemsType, composed.valuesType, composed.underlyingType]) {
    if (inner !== undefined) fieldNames(inner, names, seen);
  }
  return names;
}

/** A refusal path is made of the schema's field names and entry indexes only, never of data. */
function expectPathOfSchema(path: string, writerType: avro.Type): void {
  if (path === '<body>') return;
  const names = fieldNames(writerType);
  for (const segment of path.split(/\.|(?=\[)/)) {
    if (/^\[<(key|item) index \d+>\]$/.test(segment)) continue;
    expect(names, `segment ${JSON.stringify(segment)} of ${JSON.stringify(path)}`).toContain(segment);
  }
}

/**
 * Every value the walk visits takes at least one byte of its own, except records (the event and its
 * producer) and the one value being read when a refusal stops the walk: the guard's work per body
 * byte is bounded by the schema, whatever the body declares.
 */
const STEPS_BEYOND_BODY_BYTES = 3;

interface Checked {
  refused: boolean;
}

/**
 * Decodes one (possibly hostile) body of a known schema through the codec and checks that the
 * guard's work is bounded by the body's length and that the guard and avsc agree: a body the guard
 * passes is decoded, or rejected by avsc only for a long it cannot represent exactly.
 */
async function decodeChecked(codec: EventCodec, schemaId: number, writerType: avro.Type, kind: EventKind, body: Buffer): Promise<Checked> {
  const verdict = compileBodyGuard(writerType)(body);
  expect(verdict.steps).toBeLessThanOrEqual(body.length + STEPS_BEYOND_BODY_BYTES);
  const decoded = await codec.decode(frameWithSchemaId(schemaId, body), kind);
  if (verdict.ok) {
    if (!decoded.ok) {
      expect(decoded.reason).toBe('malformed-avro');
      expect(decoded.detail).toMatch(/potential precision loss/);
    } else {
      expectReaderBodySaysAll(kind, decoded);
    }
    return { refused: false };
  }
  expectPathOfSchema(verdict.path, writerType);
  expect(decoded).toEqual({ ok: false, reason: 'undecodable', detail: `${verdict.path}: ${verdict.detail}`, schemaId });
  return { refused: true };
}

/**
 * Storage reads `readerBody` with its own Avro decoder, so the body must say exactly what the
 * decoded event says, and nothing a decoder could take another way: it decodes to the event, its
 * text is valid UTF-8 and no map key is written twice.
 */
function expectReaderBodySaysAll(kind: EventKind, decoded: Extract<DecodedEvent, { ok: true }>): void {
  const reader = eventSchemas[kind];
  const wire = wireValue(kind, decoded.event);
  expect(reader.readerType.fromBuffer(decoded.readerBody)).toEqual(wire);
  const verdict = compileBodyGuard(reader.readerType)(decoded.readerBody);
  expect(verdict).toMatchObject({ ok: true, textIsUtf8: true, mapEntries: reader.countMapEntries(wire) });
}

const writerTypes: Record<EventKind, avro.Type> = { prediction: eventSchemas.prediction.readerType, outcome: eventSchemas.outcome.readerType };

describe('valid events', () => {
  it('survive encode and decode exactly, and pass the guard within its step bound', async () => {
    const { codec } = await codecWithSchemas();
    await fc.assert(
      fc.asyncProperty(predictionArbitrary, async (prediction) => {
        const framed = await codec.encodePrediction(topics.predictions, prediction);
        const body = framed.subarray(WIRE_HEADER_BYTES);
        const verdict = compileBodyGuard(writerTypes.prediction)(body);
        const entries = Object.keys(prediction.features).length + Object.keys(prediction.segments).length;
        expect(verdict).toEqual({ ok: true, steps: expect.any(Number), mapEntries: entries, textIsUtf8: true });
        expect(verdict.steps).toBeLessThanOrEqual(body.length + STEPS_BEYOND_BODY_BYTES);
        // Written with the reader schema, a canonical body is stored as it came.
        expect(await codec.decode(framed, 'prediction')).toEqual({ ok: true, kind: 'prediction', schemaId: expect.any(Number), event: prediction, readerBody: body });
      }),
      { seed: SEED, numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(outcomeArbitrary, async (outcome) => {
        const framed = await codec.encodeOutcome(topics.outcomes, outcome);
        expect(compileBodyGuard(writerTypes.outcome)(framed.subarray(WIRE_HEADER_BYTES)).ok).toBe(true);
        expect(await codec.decode(framed, 'outcome')).toEqual({ ok: true, kind: 'outcome', schemaId: expect.any(Number), event: outcome, readerBody: framed.subarray(WIRE_HEADER_BYTES) });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('mutated bodies', () => {
  const eventArbitrary = fc.oneof(
    predictionArbitrary.map((event) => ({ kind: 'prediction' as const, event })),
    outcomeArbitrary.map((event) => ({ kind: 'outcome' as const, event })),
  );
  const schemaIdOf = (ids: { predictions: number; outcomes: number }, kind: EventKind): number => (kind === 'prediction' ? ids.predictions : ids.outcomes);

  it('are refused by the guard when truncated at any length', async () => {
    const { codec, ids } = await codecWithSchemas();
    await fc.assert(
      fc.asyncProperty(eventArbitrary, async ({ kind, event }) => {
        const { body } = encodeWithSites(writerTypes[kind], wireValue(kind, event));
        for (let length = 0; length < body.length; length++) {
          const checked = await decodeChecked(codec, schemaIdOf(ids, kind), writerTypes[kind], kind, body.subarray(0, length));
          expect(checked.refused).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it('decode or are refused, within the step bound, after random bit flips', async () => {
    const { codec, ids } = await codecWithSchemas();
    const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(eventArbitrary, flips, async ({ kind, event }, bitFlips) => {
        const { body } = encodeWithSites(writerTypes[kind], wireValue(kind, event));
        const flipped = Buffer.from(body);
        for (const [position, bit] of bitFlips) {
          const index = position % flipped.length;
          flipped[index] = (flipped[index] as number) ^ (1 << bit);
        }
        await decodeChecked(codec, schemaIdOf(ids, kind), writerTypes[kind], kind, flipped);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('decode or are refused, within the step bound, when they are any bytes at all', async () => {
    const { codec, ids } = await codecWithSchemas();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<EventKind>('prediction', 'outcome'), fc.uint8Array({ maxLength: 200 }), async (kind, bytes) => {
        await decodeChecked(codec, schemaIdOf(ids, kind), writerTypes[kind], kind, Buffer.from(bytes));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('are refused when a map count or string length is replaced by one the bytes cannot back', async () => {
    const { codec, ids } = await codecWithSchemas();
    await fc.assert(
      fc.asyncProperty(eventArbitrary, async ({ kind, event }) => {
        const { body, sites } = encodeWithSites(writerTypes[kind], wireValue(kind, event));
        for (const site of sites.filter((candidate) => candidate.kind !== 'long')) {
          for (const hostile of HOSTILE_VARINTS) {
            const checked = await decodeChecked(codec, schemaIdOf(ids, kind), writerTypes[kind], kind, splice(body, site, hostile.bytes));
            expect(checked.refused, `${hostile.name} at the ${site.kind} at byte ${site.offset}`).toBe(true);
          }
          // Small lies may happen to describe another valid body; they must only stay bounded.
          const bytesAfter = body.length - site.offset - site.length;
          for (const lie of [0n, 1n, BigInt(bytesAfter), BigInt(bytesAfter + 1)]) {
            await decodeChecked(codec, schemaIdOf(ids, kind), writerTypes[kind], kind, splice(body, site, zigzagVarint(lie)));
          }
        }
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('pass the guard but are rejected by avsc as malformed when a long exceeds 2^53', async () => {
    const { codec, ids } = await codecWithSchemas();
    const { body, sites } = encodeWithSites(writerTypes.prediction, samplePrediction(1));
    const occurredAt = sites.find((site) => site.kind === 'long') as Site;
    const huge = splice(body, occurredAt, zigzagVarint(2n ** 60n));
    expect(compileBodyGuard(writerTypes.prediction)(huge).ok).toBe(true);
    expect(await codec.decode(frameWithSchemaId(ids.predictions, huge), 'prediction')).toMatchObject({ ok: false, reason: 'malformed-avro' });
  });
});

describe('the 20-byte map bomb', () => {
  it('is refused before avsc loops over 2^40 entries, naming the features field', async () => {
    const { codec, ids } = await codecWithSchemas();
    const emptyStringsAndZeroTime = Buffer.alloc(6); // event_id .. prediction_id, occurred_at, entity_key
    const countOf2To40 = zigzagVarint(2n ** 40n);
    const oneEntry = Buffer.from([0x02, 0x61, 0x00]); // key "a", null value
    const body = Buffer.concat([emptyStringsAndZeroTime, countOf2To40, oneEntry]);
    const message = frameWithSchemaId(ids.predictions, body);
    expect(message.length).toBe(20);

    const verdict = compileBodyGuard(writerTypes.prediction)(body);
    expect(verdict).toEqual({ ok: false, path: 'features', detail: 'declares 1099511627776 map entries but 3 bytes remain', steps: expect.any(Number) });
    expect(verdict.steps).toBeLessThanOrEqual(body.length);
    expect(await codec.decode(message, 'prediction')).toEqual({
      ok: false,
      reason: 'undecodable',
      detail: 'features: declares 1099511627776 map entries but 3 bytes remain',
      schemaId: ids.predictions,
    });
  });
});

describe('a "__proto__" map key', () => {
  it('is refused rather than silently dropped from the event', async () => {
    const { codec, ids } = await codecWithSchemas();
    const body = eventSchemas.prediction.readerType.toBuffer({ ...samplePrediction(1), features: { heart_rate: 80, ['__proto__']: 1 } });
    expect(await codec.decode(frameWithSchemaId(ids.predictions, body), 'prediction')).toMatchObject({
      ok: false,
      reason: 'undecodable',
      detail: 'features[<key index 1>]: map key "__proto__" cannot be decoded into an entry',
    });
  });
});

describe('bodies whose bytes say more than the decoded event', () => {
  const predictionType = eventSchemas.prediction.readerType;
  /** A prediction body whose features map is written as the given raw entries (key bytes, double value). */
  function bodyWithFeatureEntries(entries: readonly [Buffer, number][]): Buffer {
    const base = samplePrediction(1);
    const before = predictionType.toBuffer({ ...base, features: {} });
    // An empty features map is one zero byte, right after the fields that come before it.
    const fields = (eventSchemas.prediction.schema as avro.schema.RecordType).fields;
    const leading = avro.Type.forSchema({ type: 'record', name: 'Leading', fields: fields.slice(0, fields.findIndex((field) => field.name === 'features')) });
    const featuresEnd = leading.toBuffer(base).length;
    expect(before[featuresEnd]).toBe(0);
    const doubleBranch = zigzagVarint(1n);
    const entryBytes = entries.map(([key, value]) => {
      const number = Buffer.alloc(8);
      number.writeDoubleLE(value);
      return Buffer.concat([zigzagVarint(BigInt(key.length)), key, doubleBranch, number]);
    });
    return Buffer.concat([before.subarray(0, featuresEnd), zigzagVarint(BigInt(entries.length)), ...entryBytes, before.subarray(featuresEnd)]);
  }

  it('count every map entry as written, and keep the last of a repeated key as avsc does, encoding the event anew', async () => {
    const { codec, ids } = await codecWithSchemas();
    const body = bodyWithFeatureEntries([[Buffer.from('lactate'), 1.5], [Buffer.from('heart_rate'), 80], [Buffer.from('lactate'), 4.5]]);
    const verdict = compileBodyGuard(predictionType)(body);
    expect(verdict).toMatchObject({ ok: true, mapEntries: 3 + Object.keys(samplePrediction(1).segments).length, textIsUtf8: true });
    const decoded = await codec.decode(frameWithSchemaId(ids.predictions, body), 'prediction');
    expect(decoded).toMatchObject({ ok: true, event: { features: { lactate: 4.5, heart_rate: 80 } } });
    if (!decoded.ok) throw new Error('expected a decoded event');
    expect(decoded.readerBody.equals(body)).toBe(false);
    expectReaderBodySaysAll('prediction', decoded);
  });

  it('note text that is not UTF-8, which avsc decodes with replacement characters, and encode the event anew', async () => {
    const { codec, ids } = await codecWithSchemas();
    for (const key of [Buffer.from([0x6b, 0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xc0, 0xaf])]) {
      const body = bodyWithFeatureEntries([[key, 1]]);
      expect(compileBodyGuard(predictionType)(body)).toMatchObject({ ok: true, textIsUtf8: false });
      const decoded = await codec.decode(frameWithSchemaId(ids.predictions, body), 'prediction');
      if (!decoded.ok) throw new Error('expected a decoded event');
      expect(Object.keys((decoded.event as PredictionEvent).features)[0]).toContain('\uFFFD');
      expectReaderBodySaysAll('prediction', decoded);
    }
    const valid = bodyWithFeatureEntries([[Buffer.from('créatinine µmol/L 🧪'), 1]]);
    expect(compileBodyGuard(predictionType)(valid)).toMatchObject({ ok: true, textIsUtf8: true });
    expect(await codec.decode(frameWithSchemaId(ids.predictions, valid), 'prediction')).toMatchObject({ ok: true, readerBody: valid });
  });

  it('agree with Node on what is UTF-8, for any bytes in any string of the body', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const key = Buffer.from(bytes);
        const verdict = compileBodyGuard(predictionType)(bodyWithFeatureEntries([[key, 2]]));
        // Valid UTF-8 is exactly what survives decoding and encoding again unchanged.
        const survives = Buffer.from(key.toString('utf8'), 'utf8').equals(key);
        expect(verdict).toMatchObject({ ok: true, textIsUtf8: survives });
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('the guard on schemas other than ours', () => {
  const linkedList = avro.Type.forSchema({
    type: 'record',
    name: 'Node',
    fields: [
      { name: 'value', type: 'int' },
      { name: 'next', type: ['null', 'Node'] },
    ],
  });
  type ListNode = { value: number; next: ListNode | null };
  const listOf = (length: number): ListNode | null => {
    let head: ListNode | null = null;
    for (let index = length - 1; index >= 0; index--) head = { value: index, next: head };
    return head;
  };

  it('accepts a recursive list up to the nesting limit and refuses one node deeper', () => {
    const guard = compileBodyGuard(linkedList);
    const atLimit = linkedList.toBuffer(listOf(MAX_NESTING_DEPTH));
    expect(guard(atLimit).ok).toBe(true);
    expect(linkedList.fromBuffer(atLimit)).toEqual(listOf(MAX_NESTING_DEPTH));
    const tooDeep = linkedList.toBuffer(listOf(MAX_NESTING_DEPTH + 1));
    expect(guard(tooDeep)).toMatchObject({ ok: false, path: Array<string>(MAX_NESTING_DEPTH).fill('next').join('.'), detail: `nesting deeper than ${MAX_NESTING_DEPTH}` });
  });

  it('stops early on a very long recursive list', () => {
    // Each node is a value byte and a branch byte: 100 000 nodes, built by hand to keep avsc out of it.
    const body = Buffer.alloc(2 * 100_000, 0x02);
    const verdict = compileBodyGuard(linkedList)(body);
    expect(verdict).toMatchObject({ ok: false, detail: `nesting deeper than ${MAX_NESTING_DEPTH}` });
    expect(verdict.steps).toBeLessThanOrEqual(3 * MAX_NESTING_DEPTH);
  });

  it('refuses a record that contains itself and so recurses without consuming bytes', () => {
    const loop = avro.Type.forSchema({ type: 'record', name: 'Loop', fields: [{ name: 'self', type: 'Loop' }] });
    expect(compileBodyGuard(loop)(Buffer.alloc(0))).toMatchObject({ ok: false, detail: `nesting deeper than ${MAX_NESTING_DEPTH}` });
  });

  const nothings = avro.Type.forSchema({ type: 'record', name: 'Holder', fields: [{ name: 'nothings', type: { type: 'array', items: 'null' } }] });

  it('refuses arrays of null whose count exceeds the bytes left, though the items take none', () => {
    const guard = compileBodyGuard(nothings);
    expect(guard(Buffer.concat([zigzagVarint(2n ** 40n), zigzagVarint(0n)]))).toMatchObject({ ok: false, path: 'nothings', detail: 'declares 1099511627776 array items but 1 bytes remain' });
    expect(guard(Buffer.concat([zigzagVarint(3n), zigzagVarint(0n)]))).toMatchObject({ ok: false, path: 'nothings', detail: 'declares 3 array items but 1 bytes remain' });
    const three = Buffer.concat([zigzagVarint(3n), zigzagVarint(0n), Buffer.from([0, 0])]);
    expect(guard(three)).toMatchObject({ ok: false, path: '<body>', detail: '2 bytes after the end of the top-level value' });
    const one = Buffer.concat([zigzagVarint(1n), zigzagVarint(0n)]);
    expect(guard(one).ok).toBe(true);
    expect(nothings.fromBuffer(one)).toEqual({ nothings: [null] });
  });

  it('caps the values many blocks of null items would make avsc build', () => {
    // 400 blocks of 300 nulls in 801 bytes: each count is backed by the bytes left when it is
    // read, yet together they would make avsc build 120 000 values.
    const body = Buffer.concat([...Array.from({ length: 400 }, () => zigzagVarint(300n)), zigzagVarint(0n)]);
    const verdict = compileBodyGuard(nothings)(body);
    expect(verdict).toMatchObject({ ok: false, path: 'nothings', detail: `decoding would build more than ${valueBudget(body.length)} values from a body of ${body.length} bytes` });
    expect(verdict.steps).toBeLessThanOrEqual(valueBudget(body.length));
  });

  it('refuses a writer schema whose empty records nest into 2^25 values that take no bytes', () => {
    const levels = 24;
    let tree: avro.Schema = { type: 'record', name: `Level${levels}`, fields: [] };
    for (let level = levels - 1; level >= 0; level--) {
      tree = { type: 'record', name: `Level${level}`, fields: [{ name: 'left', type: tree }, { name: 'right', type: `Level${level + 1}` }] };
    }
    const holder = avro.Type.forSchema({ type: 'record', name: 'Forest', fields: [{ name: 'id', type: 'int' }, { name: 'tree', type: tree }] });
    expect(compileBodyGuard(holder)(zigzagVarint(7n))).toMatchObject({ ok: false, path: 'tree', detail: 'decoding would build more than 1040 values from a body of 1 bytes' });
  });

  it('checks enum indexes and fixed sizes', () => {
    const tagged = avro.Type.forSchema({
      type: 'record',
      name: 'Tagged',
      fields: [
        { name: 'colour', type: { type: 'enum', name: 'Colour', symbols: ['RED', 'GREEN', 'BLUE'] } },
        { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 16 } },
      ],
    });
    const guard = compileBodyGuard(tagged);
    const valid = tagged.toBuffer({ colour: 'BLUE', digest: Buffer.alloc(16, 7) });
    expect(guard(valid).ok).toBe(true);
    expect(guard(Buffer.concat([zigzagVarint(3n), valid.subarray(1)]))).toMatchObject({ ok: false, path: 'colour', detail: 'enum index 3 of 3 symbols' });
    expect(guard(Buffer.concat([zigzagVarint(-1n), valid.subarray(1)]))).toMatchObject({ ok: false, path: 'colour', detail: 'enum index -1 of 3 symbols' });
    expect(guard(valid.subarray(0, 16))).toMatchObject({ ok: false, path: 'digest', detail: 'the body ends inside a fixed of 16 bytes (16 bytes needed, 15 left)' });
  });

  it('checks booleans, varint lengths and union branches', () => {
    const scalars = avro.Type.forSchema({
      type: 'record',
      name: 'Scalars',
      fields: [
        { name: 'flag', type: 'boolean' },
        { name: 'count', type: 'int' },
        { name: 'total', type: 'long' },
        { name: 'choice', type: ['null', 'float'] },
      ],
    });
    const guard = compileBodyGuard(scalars);
    const body = (flag: number[], count: number[], total: number[], choice: number[]): Buffer => Buffer.from([...flag, ...count, ...total, ...choice]);
    expect(guard(body([1], [0x7f], [0x02], [0x02, 0, 0, 0x80, 0x3f])).ok).toBe(true);
    expect(guard(body([2], [0], [0], [0]))).toMatchObject({ path: 'flag', detail: 'boolean byte 2 is neither 0 nor 1' });
    expect(guard(body([0], [0xff, 0xff, 0xff, 0xff, 0x0f], [0], [0])).ok).toBe(true);
    expect(guard(body([0], [0xff, 0xff, 0xff, 0xff, 0x1f], [0], [0]))).toMatchObject({ path: 'count', detail: 'an int does not fit in 32 bits' });
    expect(guard(body([0], [0x80, 0x80, 0x80, 0x80, 0x80, 0], [0], [0]))).toMatchObject({ path: 'count', detail: 'varint of an int longer than 5 bytes' });
    expect(guard(body([0], [0], [...Array<number>(10).fill(0x80), 0], [0]))).toMatchObject({ path: 'total', detail: 'varint of a long longer than 10 bytes' });
    expect(guard(body([0], [0], [...Array<number>(9).fill(0xff), 0x03], [0]))).toMatchObject({ path: 'total', detail: 'a long does not fit in 64 bits' });
    expect(guard(body([0], [0], [0], [14]))).toMatchObject({ path: 'choice', detail: 'union branch 7 of 2' });
    expect(guard(body([0], [0], [0], [0x02, 0, 0]))).toMatchObject({ path: 'choice', detail: 'the body ends inside a float (4 bytes needed, 2 left)' });
    expect(guard(body([0], [0], [0x80], []))).toMatchObject({ path: 'total', detail: 'the body ends inside a long' });
  });

  it('refuses trailing bytes, as avsc does', () => {
    const guard = compileBodyGuard(writerTypes.prediction);
    const body = Buffer.concat([writerTypes.prediction.toBuffer(samplePrediction(2)), Buffer.from([0])]);
    expect(guard(body)).toMatchObject({ ok: false, path: '<body>', detail: '1 bytes after the end of the top-level value' });
    expect(() => writerTypes.prediction.fromBuffer(body)).toThrow(/trailing data/);
  });

  it('walks logical types by their underlying encoding and wrapped unions by their branches', () => {
    class DateType extends avro.types.LogicalType {
      override _fromValue(value: number): Date {
        return new Date(value);
      }
      override _toValue(date: unknown): number | undefined {
        return date instanceof Date ? date.getTime() : undefined;
      }
    }
    const stamped = avro.Type.forSchema(
      { type: 'record', name: 'Stamped', fields: [{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }, { name: 'note', type: ['null', 'string'] }] },
      { logicalTypes: { 'timestamp-millis': DateType }, wrapUnions: true },
    );
    const guard = compileBodyGuard(stamped);
    const value = { at: new Date(Date.UTC(2026, 0, 1)), note: { string: 'ok' } };
    const body = stamped.toBuffer(value);
    expect(guard(body).ok).toBe(true);
    expect(stamped.fromBuffer(body)).toEqual(value);
    expect(guard(body.subarray(0, body.length - 1))).toMatchObject({ ok: false, path: 'note', detail: 'string length 2 exceeds the 1 bytes left' });
  });

  describe('a writer schema that added fields the reader does not have', () => {
    const base = eventSchemas.prediction.schema as avro.schema.RecordType;
    const evolved = {
      ...base,
      fields: [
        ...base.fields,
        { name: 'care_unit', type: ['null', 'string'], default: null },
        { name: 'care_team', type: { type: 'array', items: 'string' }, default: [] },
        { name: 'annotations', type: { type: 'map', values: 'string' }, default: {} },
      ],
    } as avro.Schema;
    const evolvedType = avro.Type.forSchema(evolved);
    const evolvedArbitrary = fc.record({
      prediction: predictionArbitrary,
      care_unit: fc.option(text, { nil: null }),
      care_team: fc.array(text, { maxLength: 5 }),
      annotations: fc.dictionary(mapKey, text, { maxKeys: 5, noNullPrototype: true }),
    });

    it('decodes into the reader schema, and refuses lies in the skipped fields too', async () => {
      const { codec, source } = await codecWithSchemas();
      const evolvedId = await source.register('p.v1-value', evolved);
      await fc.assert(
        fc.asyncProperty(evolvedArbitrary, async ({ prediction, ...added }) => {
          const { body, sites } = encodeWithSites(evolvedType, { ...prediction, ...added });
          // Written with another schema, the body is encoded anew in the reader schema.
          expect(await codec.decode(frameWithSchemaId(evolvedId, body), 'prediction')).toEqual({
            ok: true,
            kind: 'prediction',
            schemaId: evolvedId,
            event: prediction,
            readerBody: eventSchemas.prediction.readerType.toBuffer(prediction),
          });
          for (const site of sites.filter((candidate) => candidate.kind !== 'long')) {
            for (const hostile of HOSTILE_VARINTS) {
              expect((await decodeChecked(codec, evolvedId, evolvedType, 'prediction', splice(body, site, hostile.bytes))).refused).toBe(true);
            }
          }
        }),
        { seed: SEED, numRuns: 60 },
      );
    });

    it('refuses the negative block size that would send avsc back over a skipped map forever', async () => {
      const { codec, source } = await codecWithSchemas();
      const evolvedId = await source.register('p.v1-value', evolved);
      const { body, sites } = encodeWithSites(evolvedType, { ...samplePrediction(4), care_unit: null, care_team: [], annotations: { ward: '7B' } });
      const annotationsCount = sites.filter((site) => site.kind === 'map count').at(-1) as Site;
      const backwards = splice(body, annotationsCount, Buffer.concat([zigzagVarint(-1n), zigzagVarint(-2n)]));
      expect(await codec.decode(frameWithSchemaId(evolvedId, backwards), 'prediction')).toMatchObject({
        ok: false,
        reason: 'undecodable',
        detail: 'annotations: block byte size -2 is negative',
      });
    });
  });
});
