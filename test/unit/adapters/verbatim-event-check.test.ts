import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventCodec, labelToWire } from '../../../services/adapters/schema-registry/event-codec.js';
import { eventSchemas } from '../../../services/adapters/schema-registry/event-schemas.js';
import { InProcessSchemaSource } from '../../../services/adapters/schema-registry/in-process-schema-source.js';
import { MAX_CHECKED_MAP_ENTRIES, verbatimCheckFor, type VerbatimCheck } from '../../../services/adapters/schema-registry/verbatim-event-check.js';
import { frameWithSchemaId } from '../../../services/adapters/schema-registry/wire-format.js';
import type { EventKind, OutcomeEvent, OutcomeLabel, PredictionEvent } from '../../../services/core/events/event-types.js';
import { defaultEventLimits, validateOutcome, validatePrediction, type EventLimits } from '../../../services/core/events/event-validation.js';
import { samplePrediction } from '../../support/sample-events.js';
import { zigzagVarint } from '../../support/zigzag-varint.js';

const SEED = 20_261_202;
const NOW = Date.UTC(2026, 11, 2, 12);
const topics = { predictions: 'p.v1', outcomes: 'o.v1' };

function shippedCheck(kind: EventKind): VerbatimCheck {
  const check = verbatimCheckFor(kind);
  if (check === null) throw new Error(`the ${kind} reader schema is not the one the byte check walks`);
  return check;
}
const checks: Record<EventKind, VerbatimCheck> = { prediction: shippedCheck('prediction'), outcome: shippedCheck('outcome') };

/** The slow way, the reference: decode with the codec, validate, and store the body as it came or anew. */
async function referenceVerdict(kind: EventKind, body: Buffer, limits: EventLimits): Promise<{ accepted: boolean; storedAsItCame: boolean }> {
  const source = new InProcessSchemaSource();
  const codec = new EventCodec(source);
  const ids = await codec.registerSchemas(topics);
  const decoded = await codec.decode(frameWithSchemaId(kind === 'prediction' ? ids.predictions : ids.outcomes, body), kind);
  if (!decoded.ok) return { accepted: false, storedAsItCame: false };
  const validation = decoded.kind === 'prediction' ? validatePrediction(decoded.event, NOW, limits) : validateOutcome(decoded.event, NOW, limits);
  return { accepted: validation.valid, storedAsItCame: validation.valid && decoded.readerBody.equals(body) };
}

// Values that sit on or near every boundary the checks draw, beside ordinary ones.
const astral = '\u{1F600}';
const limitsArbitrary: fc.Arbitrary<EventLimits> = fc.oneof(
  fc.constant(defaultEventLimits),
  fc.constant({ ...defaultEventLimits, maxFeatures: 5, maxSegments: 3, maxIdentifierLength: 8, maxStringValueLength: 4 }),
);
/** Mostly an ordinary valid value, sometimes one on or past a boundary: most events pass, each check still fails often. */
const mostly = <Value>(valid: fc.Arbitrary<Value>, boundary: fc.Arbitrary<Value>): fc.Arbitrary<Value> =>
  fc.oneof({ weight: 24, arbitrary: valid }, { weight: 1, arbitrary: boundary });
const text = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', ' ', '\t\n', '\u00a0', '\ufeff', astral.repeat(4), astral.repeat(5), 'é'.repeat(8), 'x'.repeat(9), 'x'.repeat(128), 'x'.repeat(129), astral.repeat(64), astral.repeat(65)),
);
const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/);
const identifier = mostly(token, text);
const modelId = mostly(fc.constantFrom('sepsis-risk', 'a', 'A'.repeat(64), 'x.y_z-1'), fc.oneof(fc.constantFrom('A'.repeat(65), '-x', 'x y', ''), text));
const entityKey = mostly(token, fc.constantFrom('MRN-12345', '123-45-6789', 'mrn:123456', '0123456789abcdef0123456789abcdef', '12345', ' ', astral.repeat(65)));
const time = mostly(
  fc.integer({ min: NOW - 86_400_000, max: NOW }),
  fc.constantFrom(defaultEventLimits.earliestEventTimeMs - 1, defaultEventLimits.earliestEventTimeMs, NOW + 300_000, NOW + 300_001, 0, -1, 2 ** 49, -(2 ** 49)),
);
const probability = mostly(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, -0, -Number.MIN_VALUE, 1.0000001, Number.NaN, Number.POSITIVE_INFINITY, 2));
const featureValue = mostly(
  fc.oneof(fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 12 }), fc.boolean()),
  fc.oneof(fc.constantFrom(Number.NaN, Number.NEGATIVE_INFINITY, 'x'.repeat(1024), 'x'.repeat(1025), astral.repeat(512), astral.repeat(513)), text),
);
const mapKey = mostly(token, text).filter((key) => key !== '__proto__');

const predictionArbitrary: fc.Arbitrary<PredictionEvent> = fc.record({
  event_id: identifier,
  model_id: modelId,
  model_version: identifier,
  prediction_id: identifier,
  occurred_at: time,
  entity_key: entityKey,
  features: fc.oneof(
    { weight: 4, arbitrary: fc.dictionary(mapKey, featureValue, { maxKeys: 14, noNullPrototype: true }) },
    { weight: 1, arbitrary: fc.dictionary(fc.stringMatching(/^f[0-9]{1,3}$/), fc.double({ noNaN: true, noDefaultInfinity: true }), { minKeys: 60, maxKeys: 70, noNullPrototype: true }) },
  ),
  score: probability,
  predicted_label: fc.option(mostly(fc.constantFrom(0, 1), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { nil: null }),
  decision_threshold: fc.option(probability, { nil: null }),
  segments: fc.dictionary(mapKey, mostly(token, text), { maxKeys: 5, noNullPrototype: true }),
  producer: fc.record({ service: identifier, request_id: fc.option(text, { nil: null }) }),
  input_hash: fc.option(mostly(token, text), { nil: null }),
});

const labelArbitrary: fc.Arbitrary<OutcomeLabel> = fc.oneof(
  fc.record({ kind: fc.constant('binary' as const), value: mostly(fc.constantFrom(0, 1), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })) }),
  fc.record({ kind: fc.constant('regression' as const), value: mostly(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY)) }),
  fc.record({ kind: fc.constant('class' as const), value: mostly(token, text) }),
);

const outcomeArbitrary: fc.Arbitrary<OutcomeEvent> = fc.record({
  event_id: identifier,
  model_id: modelId,
  prediction_id: identifier,
  observed_at: time,
  label: labelArbitrary,
  source: identifier,
});

type Encoded = { kind: EventKind; body: Buffer; largestMap: number };

const encodedArbitrary: fc.Arbitrary<Encoded> = fc.oneof(
  predictionArbitrary.map((event) => ({
    kind: 'prediction' as const,
    body: eventSchemas.prediction.readerType.toBuffer(event),
    largestMap: Math.max(Object.keys(event.features).length, Object.keys(event.segments).length),
  })),
  outcomeArbitrary.map((event) => ({ kind: 'outcome' as const, body: eventSchemas.outcome.readerType.toBuffer({ ...event, label: labelToWire(event.label) }), largestMap: 0 })),
);

/** Damage of the kinds a broken or hostile producer makes: flipped bits, overwritten, cut, inserted or dropped bytes. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
);

type Damage = typeof damage extends fc.Arbitrary<infer Change> ? Change : never;

function damaged(body: Buffer, change: Damage): Buffer {
  const at = body.length === 0 ? 0 : change.at % body.length;
  const copy = Buffer.from(body);
  switch (change.kind) {
    case 'flip':
      copy[at] = (copy[at] as number) ^ (1 << change.bit);
      return copy;
    case 'set':
      copy[at] = change.byte;
      return copy;
    case 'cut':
      return copy.subarray(0, at);
    case 'insert':
      return Buffer.concat([copy.subarray(0, at), Buffer.from(change.bytes), copy.subarray(at)]);
    default:
      return Buffer.concat([copy.subarray(0, at), copy.subarray(at + change.count)]);
  }
}

describe('judging an event from its bytes', () => {
  it('walks the shipped reader schemas', () => {
    expect(verbatimCheckFor('prediction')).not.toBeNull();
    expect(verbatimCheckFor('outcome')).not.toBeNull();
  });

  it('agrees with decoding and validating on every body a writer encodes', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(encodedArbitrary, limitsArbitrary, async ({ kind, body, largestMap }, limits) => {
        const reference = await referenceVerdict(kind, body, limits);
        // Larger maps are left to the slow way by design; everything else is decided here.
        const expected = reference.storedAsItCame && largestMap <= MAX_CHECKED_MAP_ENTRIES;
        expect(checks[kind](body, NOW, limits)).toBe(expected);
        if (expected) accepted++;
        else refused++;
      }),
      { seed: SEED, numRuns: 3_000 },
    );
    // Both verdicts are exercised, so the agreement says something about each.
    expect(accepted).toBeGreaterThan(600);
    expect(refused).toBeGreaterThan(600);
  });

  it('accepts a damaged body only when decoding and validating would store it as it came', async () => {
    let acceptedDamaged = 0;
    await fc.assert(
      fc.asyncProperty(encodedArbitrary, fc.array(damage, { minLength: 1, maxLength: 3 }), limitsArbitrary, async ({ kind, body }, changes, limits) => {
        const hurt = changes.reduce((current, change) => damaged(current, change), body);
        if (!checks[kind](hurt, NOW, limits)) return;
        acceptedDamaged++;
        expect(await referenceVerdict(kind, hurt, limits)).toEqual({ accepted: true, storedAsItCame: true });
      }),
      { seed: SEED, numRuns: 3_000 },
    );
    // Damage inside a value (a score's low bits, a letter of a name) leaves a valid event.
    expect(acceptedDamaged).toBeGreaterThan(100);
  });

  it('never throws on arbitrary bytes, and accepts them only as the slow way would', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<EventKind>('prediction', 'outcome'), fc.uint8Array({ maxLength: 200 }), async (kind, bytes) => {
        const body = Buffer.from(bytes);
        if (checks[kind](body, NOW, defaultEventLimits)) expect(await referenceVerdict(kind, body, defaultEventLimits)).toEqual({ accepted: true, storedAsItCame: true });
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('leaves repeated and __proto__ map keys, negative block counts and huge declared counts to the slow way', async () => {
    const valid = eventSchemas.prediction.readerType.toBuffer(samplePrediction(1, { occurred_at: NOW - 1000, features: { a: 1, b: 2 } }));
    expect(checks.prediction(valid, NOW, defaultEventLimits)).toBe(true);
    // The features map starts after five strings and the time; rewrite it by hand.
    const start = mapStart(valid);
    const rest = valid.subarray(mapEnd(valid, start));
    const withMap = (map: Buffer): Buffer => Buffer.concat([valid.subarray(0, start), map, rest]);
    const entry = (key: string, value: number): Buffer => Buffer.concat([zigzagVarint(BigInt(key.length)), Buffer.from(key), Buffer.from([2]), doubleBytes(value)]);
    const block = (count: number, ...entries: Buffer[]): Buffer => Buffer.concat([zigzagVarint(BigInt(count)), ...entries]);
    const end = Buffer.from([0]);

    const ordinary = withMap(Buffer.concat([block(2, entry('a', 1), entry('b', 2)), end]));
    expect(ordinary.equals(valid)).toBe(true);
    const twoBlocks = withMap(Buffer.concat([block(1, entry('a', 1)), block(1, entry('b', 2)), end]));
    expect(checks.prediction(twoBlocks, NOW, defaultEventLimits)).toBe(true);
    const repeated = withMap(Buffer.concat([block(2, entry('a', 1), entry('a', 2)), end]));
    expect(checks.prediction(repeated, NOW, defaultEventLimits)).toBe(false);
    // The slow way keeps the last value and stores the event encoded anew.
    expect(await referenceVerdict('prediction', repeated, defaultEventLimits)).toEqual({ accepted: true, storedAsItCame: false });
    const prototypeKey = withMap(Buffer.concat([block(1, entry('__proto__', 1)), end]));
    expect(checks.prediction(prototypeKey, NOW, defaultEventLimits)).toBe(false);
    const entries = Buffer.concat([entry('a', 1), entry('b', 2)]);
    const negative = withMap(Buffer.concat([zigzagVarint(-2n), zigzagVarint(BigInt(entries.length)), entries, end]));
    expect(checks.prediction(negative, NOW, defaultEventLimits)).toBe(false);
    expect(await referenceVerdict('prediction', negative, defaultEventLimits)).toEqual({ accepted: true, storedAsItCame: true });
    const huge = withMap(Buffer.concat([zigzagVarint(2n ** 40n), entries, end]));
    expect(checks.prediction(huge, NOW, defaultEventLimits)).toBe(false);
  });
});

/** Where the features map of a sample prediction body starts: after five strings and a long. */
function mapStart(body: Buffer): number {
  let position = 0;
  const skipVarint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = body[position++] as number;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return value / 2;
    }
  };
  const skipString = (): void => {
    const length = skipVarint();
    position += length;
  };
  for (let field = 0; field < 4; field++) skipString();
  skipVarint();
  skipString();
  return position;
}

/** The end of a map of double-valued entries that starts at `start`. */
function mapEnd(body: Buffer, start: number): number {
  let position = start;
  for (;;) {
    const count = (body[position++] as number) / 2;
    if (count === 0) return position;
    for (let item = 0; item < count; item++) {
      position += 1 + (body[position] as number) / 2;
      position += 1 + 8;
    }
  }
}

function doubleBytes(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleLE(value);
  return bytes;
}
