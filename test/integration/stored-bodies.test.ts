import avro from 'avsc';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRow } from '../../services/adapters/clickhouse/event-store.js';
import { EventCodec, labelToWire } from '../../services/adapters/schema-registry/event-codec.js';
import { eventSchemas } from '../../services/adapters/schema-registry/event-schemas.js';
import { InProcessSchemaSource } from '../../services/adapters/schema-registry/in-process-schema-source.js';
import { frameWithSchemaId } from '../../services/adapters/schema-registry/wire-format.js';
import type { FeatureValue, OutcomeEvent, OutcomeLabel, PredictionEvent } from '../../services/core/events/event-types.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';
import { samplePrediction } from '../support/sample-events.js';

/**
 * ClickHouse decodes each stored body itself. For any event, including bodies whose bytes a decoder
 * could take another way than avsc (a map key written twice, text that is not UTF-8), the row
 * ClickHouse stores is the event the codec decoded and the collector validated: every column, the
 * typed feature maps with as many entries as the event, and the lineage.
 */

const SEED = 20_261_202;
const text = fc.string({ unit: 'binary', maxLength: 16 });
/** Key bytes as a producer may write them: UTF-8 of any text, or any bytes at all. */
const keyBytes = fc.oneof(
  { weight: 3, arbitrary: text.filter((key) => key !== '__proto__').map((key) => Buffer.from(key, 'utf8')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => Buffer.from(bytes)) },
);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const featureValue: fc.Arbitrary<FeatureValue> = fc.oneof(fc.constant(null), finite, text, fc.boolean());
/** Entries of the features map as written; a key may come twice. */
const featureEntries = fc.array(fc.tuple(keyBytes, featureValue), { maxLength: 8 }).chain((entries) =>
  entries.length === 0 ? fc.constant(entries) : fc.option(fc.nat(entries.length - 1), { nil: null }).map((repeat) => (repeat === null ? entries : [...entries, [entries[repeat]![0], 1.25] as [Buffer, FeatureValue]])),
);
const eventTime = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });

const predictionType = eventSchemas.prediction.readerType;
const fields = (eventSchemas.prediction.schema as avro.schema.RecordType).fields;
const featuresIndex = fields.findIndex((field) => field.name === 'features');
const leadingType = avro.Type.forSchema({ type: 'record', name: 'Leading', fields: fields.slice(0, featuresIndex) });
const trailingType = avro.Type.forSchema({ type: 'record', name: 'Trailing', fields: fields.slice(featuresIndex + 1) });
const featureValueType = avro.Type.forSchema(['null', 'double', 'string', 'boolean']);
const longType = avro.Type.forSchema('long');

/** A prediction body with its features map written entry by entry from raw key bytes. */
function predictionBody(event: Omit<PredictionEvent, 'features'>, entries: readonly [Buffer, FeatureValue][]): Buffer {
  const features = entries.map(([key, value]) => Buffer.concat([longType.toBuffer(key.length), key, featureValueType.toBuffer(value)]));
  const map = entries.length === 0 ? [longType.toBuffer(0)] : [longType.toBuffer(entries.length), ...features, longType.toBuffer(0)];
  return Buffer.concat([leadingType.toBuffer(event), ...map, trailingType.toBuffer(event)]);
}

const predictionArbitrary = fc.record({
  event: fc.record({
    event_id: fc.constant(''),
    model_id: text,
    model_version: text,
    prediction_id: text,
    occurred_at: eventTime,
    entity_key: text,
    score: finite,
    predicted_label: fc.constantFrom(null, 0, 1),
    decision_threshold: fc.option(finite, { nil: null }),
    segments: fc.dictionary(text.filter((key) => key !== '__proto__'), text, { maxKeys: 4, noNullPrototype: true }),
    producer: fc.record({ service: text, request_id: fc.option(text, { nil: null }) }),
    input_hash: fc.option(text, { nil: null }),
  }),
  entries: featureEntries,
});

const labelArbitrary: fc.Arbitrary<OutcomeLabel> = fc.oneof(
  fc.record({ kind: fc.constant('binary' as const), value: fc.constantFrom(0, 1) }),
  fc.record({ kind: fc.constant('regression' as const), value: finite }),
  fc.record({ kind: fc.constant('class' as const), value: text }),
);
const outcomeArbitrary: fc.Arbitrary<OutcomeEvent> = fc.record({
  event_id: fc.constant(''),
  model_id: text,
  prediction_id: text,
  observed_at: eventTime,
  label: labelArbitrary,
  source: text,
});

type FeatureMaps = { features_numeric: Record<string, number>; features_text: Record<string, string>; features_boolean: Record<string, boolean>; features_missing: string[] };

function featureMaps(features: Record<string, FeatureValue>): FeatureMaps {
  const maps: FeatureMaps = { features_numeric: {}, features_text: {}, features_boolean: {}, features_missing: [] };
  for (const [name, value] of Object.entries(features)) {
    if (value === null) maps.features_missing.push(name);
    else if (typeof value === 'number') maps.features_numeric[name] = value;
    else if (typeof value === 'string') maps.features_text[name] = value;
    else maps.features_boolean[name] = value;
  }
  maps.features_missing.sort();
  return maps;
}

describe('bodies as ClickHouse stores them', () => {
  let storage: StorageHarness;
  let codec: EventCodec;
  let ids: { predictions: number; outcomes: number };
  let offset = 0;
  beforeAll(async () => {
    storage = await openTestStorage();
    codec = new EventCodec(new InProcessSchemaSource());
    ids = await codec.registerSchemas({ predictions: 'p', outcomes: 'o' });
  });
  afterAll(async () => storage?.close());

  const select = async <Row>(query: string, eventIds: string[]): Promise<Row[]> =>
    (await storage.client.query({ query, query_params: { ids: eventIds }, format: 'JSONEachRow' })).json<Row>();

  it('hold exactly the decoded prediction, whatever its bytes, with its lineage', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(predictionArbitrary, { minLength: 1, maxLength: 6 }), async (batch) => {
        const decoded: PredictionEvent[] = [];
        const rows: EventRow[] = [];
        for (const { event: generated, entries } of batch) {
          offset += 1;
          // Each event's own id, so that the rows of earlier runs stay out of the way.
          const event = { ...generated, event_id: `prediction-${offset}` };
          const result = await codec.decode(frameWithSchemaId(ids.predictions, predictionBody(event, entries)), 'prediction');
          if (!result.ok || result.kind !== 'prediction') throw new Error(`a well-formed body was refused: ${JSON.stringify(result)}`);
          decoded.push(result.event);
          rows.push({ readerBody: result.readerBody, lineage: { topic: 'vigil.predictions.v1', partition: 2, offset: String(offset), schemaId: ids.predictions }, ingestedAtMs: Date.UTC(2026, 0, 2) });
        }
        await storage.store.insert('predictions', rows);
        const stored = await select<Record<string, unknown>>(
          `SELECT event_id, model_id, model_version, prediction_id, toString(toUnixTimestamp64Milli(occurred_at)) AS occurred_at, entity_key,
                  features_numeric, features_text, features_boolean, features_missing,
                  toUInt32(length(features_numeric) + length(features_text) + length(features_boolean) + length(features_missing)) AS feature_entries,
                  score, predicted_label, decision_threshold, segments, toUInt32(length(segments)) AS segment_entries, producer_service, producer_request_id,
                  input_hash, source_topic, source_partition, toString(source_offset) AS source_offset, schema_id, toString(toUnixTimestamp64Milli(ingested_at)) AS ingested_at
           FROM ${storage.target.database}.predictions WHERE event_id IN {ids:Array(String)} ORDER BY toUInt64(source_offset)`,
          decoded.map((event) => event.event_id),
        );
        // Missing features in one order on both sides (ClickHouse sorts bytes, JavaScript UTF-16 units).
        for (const row of stored) (row.features_missing as string[]).sort();
        expect(stored).toEqual(
          decoded.map((event, index) => ({
            event_id: event.event_id,
            model_id: event.model_id,
            model_version: event.model_version,
            prediction_id: event.prediction_id,
            occurred_at: String(event.occurred_at),
            entity_key: event.entity_key,
            ...featureMaps(event.features),
            feature_entries: Object.keys(event.features).length,
            score: event.score,
            predicted_label: event.predicted_label,
            decision_threshold: event.decision_threshold,
            segments: event.segments,
            segment_entries: Object.keys(event.segments).length,
            producer_service: event.producer.service,
            producer_request_id: event.producer.request_id,
            input_hash: event.input_hash,
            source_topic: 'vigil.predictions.v1',
            source_partition: 2,
            source_offset: rows[index]!.lineage.offset,
            schema_id: ids.predictions,
            ingested_at: String(Date.UTC(2026, 0, 2)),
          })),
        );
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('hold exactly the decoded outcome, each label kind by its Avro branch', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(outcomeArbitrary, { minLength: 1, maxLength: 6 }), async (outcomes) => {
        const rows: EventRow[] = [];
        for (const [index, generated] of outcomes.entries()) {
          offset += 1;
          const outcome = { ...generated, event_id: `outcome-${offset}` };
          outcomes[index] = outcome;
          const body = eventSchemas.outcome.readerType.toBuffer({ ...outcome, label: labelToWire(outcome.label) });
          const result = await codec.decode(frameWithSchemaId(ids.outcomes, body), 'outcome');
          if (!result.ok) throw new Error('a well-formed body was refused');
          expect(result.event).toEqual(outcome);
          rows.push({ readerBody: result.readerBody, lineage: { topic: 'vigil.outcomes.v1', partition: 0, offset: String(offset), schemaId: ids.outcomes }, ingestedAtMs: Date.UTC(2026, 0, 3) });
        }
        await storage.store.insert('outcomes', rows);
        const stored = await select<Record<string, unknown>>(
          `SELECT event_id, model_id, prediction_id, toString(toUnixTimestamp64Milli(observed_at)) AS observed_at, label_kind, label_value, label_class, source, toString(source_offset) AS source_offset
           FROM ${storage.target.database}.outcomes WHERE event_id IN {ids:Array(String)} ORDER BY toUInt64(source_offset)`,
          outcomes.map((outcome) => outcome.event_id),
        );
        expect(stored).toEqual(
          outcomes.map((outcome, index) => ({
            event_id: outcome.event_id,
            model_id: outcome.model_id,
            prediction_id: outcome.prediction_id,
            observed_at: String(outcome.observed_at),
            label_kind: outcome.label.kind,
            label_value: outcome.label.kind === 'class' ? null : outcome.label.value,
            label_class: outcome.label.kind === 'class' ? outcome.label.value : null,
            source: outcome.source,
            source_offset: rows[index]!.lineage.offset,
          })),
        );
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('keep a Kafka offset beyond 2^53 exactly', async () => {
    const body = predictionType.toBuffer(samplePrediction(1, { event_id: 'offset-beyond-2-53' }));
    const offsetText = '9007199254740993';
    await storage.store.insert('predictions', [{ readerBody: body, lineage: { topic: 't', partition: 0, offset: offsetText, schemaId: 1 }, ingestedAtMs: Date.now() }]);
    const [row] = await select<{ source_offset: string }>(`SELECT toString(source_offset) AS source_offset FROM ${storage.target.database}.predictions WHERE event_id IN {ids:Array(String)}`, ['offset-beyond-2-53']);
    expect(row?.source_offset).toBe(offsetText);
  });
});
