import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { ConfluentSchemaSource } from '../../services/adapters/schema-registry/confluent-schema-source.js';
import { EventCodec } from '../../services/adapters/schema-registry/event-codec.js';
import { eventSchemas } from '../../services/adapters/schema-registry/event-schemas.js';
import { ForeignProducer, foreignPrediction } from '../support/foreign-producer.js';
import { uniqueTopics } from '../support/pipeline-harness.js';
import { samplePrediction } from '../support/sample-events.js';
import { stackEndpoints } from '../support/stack-endpoints.js';

describe('event schemas in the real registry (BACKWARD compatibility)', () => {
  const endpoints = stackEndpoints();

  it('accepts a new version with an added optional field, and both versions still decode', async () => {
    const topics = uniqueTopics();
    const subject = `${topics.predictions}-value`;
    const codec = new EventCodec(new ConfluentSchemaSource(endpoints.schemaRegistryUrl));
    const { predictions: firstId } = await codec.registerSchemas(topics);

    const config = await (await fetch(`${endpoints.schemaRegistryUrl}/config/${subject}`)).json();
    expect(config).toMatchObject({ compatibilityLevel: 'BACKWARD' });

    const base = eventSchemas.prediction.schema as avro.schema.RecordType;
    const evolved = { ...base, fields: [...base.fields, { name: 'care_unit', type: ['null', 'string'], default: null }] };
    const response = await fetch(`${endpoints.schemaRegistryUrl}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(evolved) }),
    });
    expect(response.status).toBe(200);
    const secondId = ((await response.json()) as { id: number }).id;
    expect(secondId).not.toBe(firstId);

    const oldMessage = await codec.encodePrediction(topics.predictions, samplePrediction(1));
    const newMessage = ForeignProducer.frame(secondId, avro.Type.forSchema(evolved as avro.Schema), { ...foreignPrediction(2, 'evolved'), care_unit: 'ICU' });
    expect(await codec.decode(oldMessage, 'prediction')).toMatchObject({ ok: true, schemaId: firstId, event: samplePrediction(1) });
    expect(await codec.decode(newMessage, 'prediction')).toMatchObject({ ok: true, schemaId: secondId, event: { event_id: 'evolved-p-2' } });
  });

  it('refuses a version that breaks old readers: a new field without a default', async () => {
    const topics = uniqueTopics();
    const subject = `${topics.predictions}-value`;
    await new EventCodec(new ConfluentSchemaSource(endpoints.schemaRegistryUrl)).registerSchemas(topics);
    const base = eventSchemas.prediction.schema as avro.schema.RecordType;
    const breaking = { ...base, fields: [...base.fields, { name: 'care_unit', type: 'string' }] };
    const response = await fetch(`${endpoints.schemaRegistryUrl}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(breaking) }),
    });
    expect(response.status).toBe(409);
  });

  it('tells an unknown schema id from an unreachable registry', async () => {
    const known = new EventCodec(new ConfluentSchemaSource(endpoints.schemaRegistryUrl));
    const unknown = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 1, 2]);
    expect(await known.decode(unknown, 'prediction')).toMatchObject({ ok: false, reason: 'unknown-schema' });
    const unreachable = new EventCodec(new ConfluentSchemaSource('http://127.0.0.1:9/apis/ccompat/v7'));
    await expect(unreachable.decode(unknown, 'prediction')).rejects.toMatchObject({ name: 'SchemaSourceUnavailableError', retriable: true });
  });
});
