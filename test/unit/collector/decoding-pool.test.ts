import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../../services/adapters/schema-registry/event-codec.js';
import { InProcessSchemaSource } from '../../../services/adapters/schema-registry/in-process-schema-source.js';
import { SchemaSourceUnavailableError, type WriterSchemaLookup } from '../../../services/adapters/schema-registry/schema-source.js';
import { frameWithSchemaId } from '../../../services/adapters/schema-registry/wire-format.js';
import { DecodingPool } from '../../../services/collector/decoding-pool.js';
import { judgeEvents, type EventVerdict } from '../../../services/collector/event-verdicts.js';
import { defaultEventLimits } from '../../../services/core/events/event-validation.js';
import { sampleOutcome, samplePrediction } from '../../support/sample-events.js';

/**
 * The decoding threads judge exactly as the collector's own thread would: the same verdict, reason,
 * detail and stored body for every value, however hostile, and registry outages still reach the
 * caller. The pool runs the compiled worker (npm test builds it first).
 */

const topics = { predictions: 'pool.p', outcomes: 'pool.o' };
const NOW = Date.UTC(2026, 10, 2);
const pools: DecodingPool[] = [];
afterAll(async () => Promise.all(pools.map((pool) => pool.close())));

function poolOver(source: InProcessSchemaSource | CountingSource, threads = 1): DecodingPool {
  const pool = new DecodingPool(source, threads);
  pools.push(pool);
  return pool;
}

const comparable = (verdicts: readonly EventVerdict[]): unknown[] =>
  verdicts.map((verdict) => (verdict.accepted ? { ...verdict, readerBody: verdict.readerBody.toString('hex') } : verdict));

class CountingSource extends InProcessSchemaSource {
  lookups = 0;
  down = false;
  override async writerType(schemaId: number): Promise<WriterSchemaLookup> {
    this.lookups += 1;
    if (this.down) throw new SchemaSourceUnavailableError('registry down for the test');
    return super.writerType(schemaId);
  }
}

describe('the decoding pool', () => {
  it('gives the verdicts of the consuming thread for good, mutated and arbitrary values', async () => {
    const source = new InProcessSchemaSource();
    const codec = new EventCodec(source);
    const ids = await codec.registerSchemas(topics);
    const pool = poolOver(source, 2);
    const good = await Promise.all([1, 2, 3].map((index) => codec.encodePrediction(topics.predictions, samplePrediction(index))));
    const value = fc.oneof(
      fc.constantFrom(...good),
      fc.tuple(fc.constantFrom(...good), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([framed, position, bit]) => {
        const flipped = Buffer.from(framed);
        const index = position % flipped.length;
        flipped[index] = (flipped[index] as number) ^ (1 << bit);
        return flipped;
      }),
      fc.uint8Array({ maxLength: 80 }).map((bytes) => frameWithSchemaId(ids.predictions, Buffer.from(bytes))),
      fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 30 }), async (values) => {
        const inThread = await judgeEvents(codec, values, 'prediction', NOW, defaultEventLimits);
        expect(comparable(await pool.judge(values, 'prediction', NOW, defaultEventLimits))).toEqual(comparable(inThread));
      }),
      { seed: 20_261_202, numRuns: 150 },
    );
    // Outcomes and a value of the other kind, together.
    const values = [await codec.encodeOutcome(topics.outcomes, sampleOutcome(1)), good[0] as Buffer];
    expect(comparable(await pool.judge(values, 'outcome', NOW, defaultEventLimits))).toEqual(comparable(await judgeEvents(codec, values, 'outcome', NOW, defaultEventLimits)));
  });

  it('asks the registry once per schema id it found, again for an id it did not, and passes an outage on', async () => {
    const source = new CountingSource();
    const codec = new EventCodec(source);
    await codec.registerSchemas(topics);
    const pool = poolOver(source);
    const framed = await codec.encodePrediction(topics.predictions, samplePrediction(1));
    const unknown = frameWithSchemaId(77, framed.subarray(5));
    const first = await pool.judge([framed, framed, unknown], 'prediction', NOW, defaultEventLimits);
    expect(first.map((verdict) => verdict.accepted)).toEqual([true, true, false]);
    expect(first[2]).toMatchObject({ reason: 'unknown-schema' });
    expect(source.lookups).toBe(2);
    await pool.judge([framed, unknown], 'prediction', NOW, defaultEventLimits);
    expect(source.lookups).toBe(3);
    source.down = true;
    await expect(pool.judge([unknown], 'prediction', NOW, defaultEventLimits)).rejects.toBeInstanceOf(SchemaSourceUnavailableError);
    // What it found stays known through the outage.
    expect((await pool.judge([framed], 'prediction', NOW, defaultEventLimits))[0]?.accepted).toBe(true);
  });

  it('fails the batches in flight when closed, and serves the next batch on a new thread', async () => {
    const source = new InProcessSchemaSource();
    const codec = new EventCodec(source);
    await codec.registerSchemas(topics);
    const pool = poolOver(source);
    const values = await Promise.all(Array.from({ length: 20_000 }, (_, index) => codec.encodePrediction(topics.predictions, samplePrediction(index))));
    const inFlight = pool.judge(values, 'prediction', NOW, defaultEventLimits);
    await pool.close();
    await expect(inFlight).rejects.toThrow(/decoding thread/);
    const verdicts = await pool.judge(values.slice(0, 3), 'prediction', NOW, defaultEventLimits);
    expect(verdicts.map((verdict) => verdict.accepted)).toEqual([true, true, true]);
  });
});
