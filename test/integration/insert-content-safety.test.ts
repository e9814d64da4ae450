import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOutcomeRow, toPredictionRow, type EventLineage } from '../../services/adapters/clickhouse/event-store.js';
import type { OutcomeEvent, PredictionEvent } from '../../services/core/events/event-types.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';
import { sampleOutcome, samplePrediction } from '../support/sample-events.js';

/**
 * The insert path takes any event content as data: chDB ends an inline INSERT's data at the first
 * blank line and parses what follows as SQL, so a text payload inlined into a query could run
 * statements. EventStore sends Avro container files instead, where every value is length-prefixed
 * binary. Events whose every free-text field carries newlines, blank lines, quotes, backslashes,
 * control characters, statements and any other text are stored verbatim through it, and nothing
 * else runs: a canary table stays empty and every table stays.
 */

const LINEAGE: EventLineage = { topic: 'vigil.predictions.v1', partition: 0, offset: '0', schemaId: 1 };

/** Fragments a hostile producer would try, besides any text at all. */
const HOSTILE_FRAGMENTS = ['\n', '\n\n', '\r\n\r\n', '\n \n', "'", '"', '`', '\\', '\\n', ';', '\u0000', '\t', '\u2028', '}', ']', '{"a":1}'];

/** Text as avsc decodes it from bytes: well-formed, lone surrogates replaced. */
const decodedText = fc.string({ unit: 'binary', maxLength: 24 }).map((text) => Buffer.from(text).toString());

function hostileText(database: string): fc.Arbitrary<string> {
  const statements = [`INSERT INTO ${database}.canary VALUES (1)`, `DROP TABLE ${database}.outcomes`, `TRUNCATE TABLE ${database}.predictions`, 'SELECT 1'];
  return fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.constantFrom(...statements), decodedText), { minLength: 1, maxLength: 8 })
    .map((parts) => parts.join(''));
}

interface StoredPrediction {
  event_id: string;
  prediction_id: string;
  entity_key: string;
  features_text: Record<string, string>;
  segments: Record<string, string>;
  producer_service: string;
  producer_request_id: string | null;
  input_hash: string | null;
}

describe('the insert path, for any event content', () => {
  let storage: StorageHarness;
  let sequence = 0;
  beforeAll(async () => {
    storage = await openTestStorage();
    await storage.client.command({ query: `CREATE TABLE ${storage.target.database}.canary (value UInt8) ENGINE = MergeTree ORDER BY value` });
  });
  afterAll(async () => storage?.close());

  const database = (): string => storage.target.database;

  async function nothingElseRan(): Promise<void> {
    const tables = await (
      await storage.client.query({ query: `SELECT name FROM system.tables WHERE database = {database:String} ORDER BY name`, query_params: { database: database() }, format: 'JSONEachRow' })
    ).json<{ name: string }>();
    expect(tables.map((table) => table.name)).toEqual(expect.arrayContaining(['canary', 'outcomes', 'predictions']));
    const [canary] = await (await storage.client.query({ query: `SELECT count() AS rows FROM ${database()}.canary`, format: 'JSONEachRow' })).json<{ rows: number | string }>();
    expect(Number(canary?.rows)).toBe(0);
  }

  it('stores predictions and outcomes with hostile text verbatim, and runs nothing else', { timeout: 120_000 }, async () => {
    const text = hostileText(database());
    const predictionFields = fc.record({
      entityKey: text,
      predictionId: text,
      textFeature: fc.tuple(text, text),
      segment: fc.tuple(text, text),
      service: text,
      requestId: fc.option(text, { nil: null }),
      inputHash: fc.option(text, { nil: null }),
      source: text,
      labelClass: text,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(predictionFields, { minLength: 1, maxLength: 5 }), async (batch) => {
        const predictions: PredictionEvent[] = [];
        const outcomes: OutcomeEvent[] = [];
        for (const fields of batch) {
          sequence += 1;
          const [featureName, featureValue] = fields.textFeature;
          const [segmentName, segmentValue] = fields.segment;
          predictions.push(
            samplePrediction(sequence, {
              event_id: `safety-${sequence}`,
              prediction_id: fields.predictionId,
              entity_key: fields.entityKey,
              // The text feature under a name of its own beside the sample's numeric ones.
              features: { heart_rate: 80, [`t:${featureName}`]: featureValue },
              segments: { site: 'site-a', [`s:${segmentName}`]: segmentValue },
              producer: { service: fields.service, request_id: fields.requestId },
              input_hash: fields.inputHash,
            }),
          );
          outcomes.push(sampleOutcome(sequence, { event_id: `safety-outcome-${sequence}`, prediction_id: fields.predictionId, source: fields.source, label: { kind: 'class', value: fields.labelClass } }));
        }
        await storage.store.insert('predictions', predictions.map((event) => toPredictionRow(event, LINEAGE, Date.now())));
        await storage.store.insert('outcomes', outcomes.map((event) => toOutcomeRow(event, LINEAGE, Date.now())));

        const ids = predictions.map((event) => event.event_id);
        const stored = await (
          await storage.client.query({
            query: `SELECT event_id, prediction_id, entity_key, features_text, segments, producer_service, producer_request_id, input_hash
                    FROM ${database()}.predictions WHERE event_id IN {ids:Array(String)} ORDER BY event_id`,
            query_params: { ids },
            format: 'JSONEachRow',
          })
        ).json<StoredPrediction>();
        const expected = predictions
          .map((event) => ({
            event_id: event.event_id,
            prediction_id: event.prediction_id,
            entity_key: event.entity_key,
            features_text: Object.fromEntries(Object.entries(event.features).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
            segments: event.segments,
            producer_service: event.producer.service,
            producer_request_id: event.producer.request_id,
            input_hash: event.input_hash,
          }))
          .sort((left, right) => (left.event_id < right.event_id ? -1 : 1));
        expect(stored).toEqual(expected);

        const storedOutcomes = await (
          await storage.client.query({
            query: `SELECT event_id, prediction_id, source, label_class FROM ${database()}.outcomes WHERE event_id IN {ids:Array(String)} ORDER BY event_id`,
            query_params: { ids: outcomes.map((event) => event.event_id) },
            format: 'JSONEachRow',
          })
        ).json<{ event_id: string; prediction_id: string; source: string; label_class: string }>();
        expect(storedOutcomes).toEqual(
          outcomes
            .map((event) => ({ event_id: event.event_id, prediction_id: event.prediction_id, source: event.source, label_class: event.label.value }))
            .sort((left, right) => (left.event_id < right.event_id ? -1 : 1)),
        );
        await nothingElseRan();
      }),
      { numRuns: 60 },
    );
    expect(await storage.store.count('predictions')).toBe(sequence);
    expect(await storage.store.count('outcomes')).toBe(sequence);
  });
});
