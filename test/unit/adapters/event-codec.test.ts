import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { EventCodec } from '../../../services/adapters/schema-registry/event-codec.js';
import { eventSchemas } from '../../../services/adapters/schema-registry/event-schemas.js';
import { InProcessSchemaSource } from '../../../services/adapters/schema-registry/in-process-schema-source.js';
import { frameWithSchemaId, readSchemaId } from '../../../services/adapters/schema-registry/wire-format.js';
import { sampleOutcome, samplePrediction } from '../../support/sample-events.js';

const topics = { predictions: 'p.v1', outcomes: 'o.v1' };

async function codecWithSchemas(): Promise<{ codec: EventCodec; source: InProcessSchemaSource; ids: { predictions: number; outcomes: number } }> {
  const source = new InProcessSchemaSource();
  const codec = new EventCodec(source);
  return { codec, source, ids: await codec.registerSchemas(topics) };
}

describe('wire format', () => {
  it('frames a body with magic byte 0 and a big-endian schema id', () => {
    const framed = frameWithSchemaId(258, Buffer.from([7, 8]));
    expect([...framed]).toEqual([0, 0, 0, 1, 2, 7, 8]);
    expect(readSchemaId(framed)).toBe(258);
  });

  it('reads no schema id from short or foreign bytes', () => {
    expect(readSchemaId(Buffer.from([0, 0, 0]))).toBeNull();
    expect(readSchemaId(Buffer.from('{"json":true}'))).toBeNull();
  });
});

describe('EventCodec', () => {
  it('round-trips predictions and every outcome label kind', async () => {
    const { codec } = await codecWithSchemas();
    const prediction = samplePrediction(3);
    expect(await codec.decode(await codec.encodePrediction(topics.predictions, prediction), 'prediction')).toMatchObject({ ok: true, event: prediction });
    for (const label of [{ kind: 'binary', value: 1 }, { kind: 'regression', value: 2.5 }, { kind: 'class', value: 'shock' }] as const) {
      const outcome = sampleOutcome(3, { label });
      expect(await codec.decode(await codec.encodeOutcome(topics.outcomes, outcome), 'outcome')).toMatchObject({ ok: true, event: outcome });
    }
  });

  it('classifies random bytes, unknown ids, truncated bodies and the wrong event type', async () => {
    const { codec, ids } = await codecWithSchemas();
    expect(await codec.decode(Buffer.from('not avro at all'), 'prediction')).toMatchObject({ ok: false, reason: 'not-wire-format' });
    expect(await codec.decode(frameWithSchemaId(999, Buffer.from([1, 2])), 'prediction')).toMatchObject({ ok: false, reason: 'unknown-schema', schemaId: 999 });
    const valid = await codec.encodePrediction(topics.predictions, samplePrediction(1));
    expect(await codec.decode(valid.subarray(0, valid.length - 4), 'prediction')).toMatchObject({ ok: false, reason: 'undecodable', schemaId: ids.predictions });
    const outcome = await codec.encodeOutcome(topics.outcomes, sampleOutcome(1));
    expect(await codec.decode(outcome, 'prediction')).toMatchObject({ ok: false, reason: 'wrong-event-type' });
  });

  it('reads events written with a newer schema that added an optional field', async () => {
    const { codec, source } = await codecWithSchemas();
    const base = eventSchemas.prediction.schema as avro.schema.RecordType;
    const evolved = { ...base, fields: [...base.fields, { name: 'care_unit', type: ['null', 'string'], default: null }] };
    const evolvedId = await source.register('p.v1-value', evolved as avro.Schema);
    const body = avro.Type.forSchema(evolved as avro.Schema).toBuffer({ ...samplePrediction(5), care_unit: 'ICU' });
    const decoded = await codec.decode(frameWithSchemaId(evolvedId, body), 'prediction');
    expect(decoded).toMatchObject({ ok: true, schemaId: evolvedId, event: samplePrediction(5) });
  });

  it('refuses a writer schema that cannot be resolved into the reader schema', async () => {
    const { codec, source } = await codecWithSchemas();
    const base = eventSchemas.prediction.schema as avro.schema.RecordType;
    const broken = { ...base, fields: base.fields.map((field) => (field.name === 'score' ? { ...field, type: 'string' } : field)) };
    const brokenId = await source.register('p.v1-value', broken as avro.Schema);
    const body = avro.Type.forSchema(broken as avro.Schema).toBuffer({ ...samplePrediction(5), score: 'high' });
    expect(await codec.decode(frameWithSchemaId(brokenId, body), 'prediction')).toMatchObject({ ok: false, reason: 'incompatible-schema' });
  });
  it('asks the registry once per new schema id of a batch, a few at a time, and remembers only what an id means', async () => {
    class CountingSource extends InProcessSchemaSource {
      lookups: number[] = [];
      inFlight = 0;
      mostInFlight = 0;
      override async writerType(schemaId: number) {
        this.lookups.push(schemaId);
        this.inFlight++;
        this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        this.inFlight--;
        return super.writerType(schemaId);
      }
    }
    const source = new CountingSource();
    const codec = new EventCodec(source);
    const ids = await codec.registerSchemas(topics);
    const good = await codec.encodePrediction(topics.predictions, samplePrediction(1));
    const unknownIds = Array.from({ length: 30 }, (_, index) => 1_000 + index);
    const batch = [good, good, ...unknownIds.flatMap((id) => [frameWithSchemaId(id, Buffer.from([0])), frameWithSchemaId(id, Buffer.from([1]))])];

    const decoded = await codec.decodeAll(batch, 'prediction');
    expect(decoded.slice(0, 2)).toMatchObject([{ ok: true }, { ok: true }]);
    expect(decoded.slice(2).every((result) => !result.ok && result.reason === 'unknown-schema')).toBe(true);
    expect([...source.lookups].sort((a, b) => a - b)).toEqual([ids.predictions, ...unknownIds]);
    expect(source.mostInFlight).toBeGreaterThan(1);
    expect(source.mostInFlight).toBeLessThanOrEqual(8);

    // The known id is remembered; unknown ids are asked again, since a registry may regain a schema.
    source.lookups = [];
    await codec.decodeAll(batch, 'prediction');
    expect([...source.lookups].sort((a, b) => a - b)).toEqual(unknownIds);
  });
});
