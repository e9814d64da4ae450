import { existsSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import { Kafka, logLevel, type Producer } from 'kafkajs';

/**
 * A producer that shares no code with Vigil: plain kafkajs, plain avsc, and the registry's REST API,
 * registering the schema files itself and framing the Confluent wire format by hand. What it
 * publishes is what any inference service in any language could publish.
 */
export class ForeignProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly registryUrl: string,
  ) {}

  static async connect(brokers: string[], registryUrl: string): Promise<ForeignProducer> {
    const producer = new Kafka({ clientId: 'foreign-producer', brokers, logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    return new ForeignProducer(producer, registryUrl);
  }

  /** POST /subjects/{subject}/versions; returns the schema id. */
  async register(subject: string, schema: object): Promise<number> {
    const response = await fetch(`${this.registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
    });
    if (!response.ok) throw new Error(`registry refused ${subject}: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { id: number }).id;
  }

  /** The project's schema file, from test/support or from its compiled copy in dist/test/support. */
  static schemaFile(name: 'prediction-event.avsc' | 'outcome-event.avsc'): object {
    const beside = new URL(`../../schemas/${name}`, import.meta.url);
    const file = existsSync(beside) ? beside : new URL(`../../../schemas/${name}`, import.meta.url);
    return JSON.parse(readFileSync(file, 'utf8')) as object;
  }

  static frame(schemaId: number, type: avro.Type, value: unknown): Buffer {
    return ForeignProducer.frameBody(schemaId, type.toBuffer(value));
  }

  /** Magic byte 0, the schema id big-endian, then the body as given, well-formed or not. */
  static frameBody(schemaId: number, body: Buffer): Buffer {
    const header = Buffer.alloc(5);
    header.writeInt32BE(schemaId, 1);
    return Buffer.concat([header, body]);
  }

  async send(topic: string, messages: Array<{ key?: string; value: Buffer }>): Promise<void> {
    for (let start = 0; start < messages.length; start += 2_000) {
      await this.producer.send({ topic, acks: -1, messages: messages.slice(start, start + 2_000) });
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** A prediction as the Avro schema wants it (plain JSON values). */
export function foreignPrediction(index: number, runId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `${runId}-p-${index}`,
    model_id: 'sepsis-risk',
    model_version: '2.3.0',
    prediction_id: `${runId}-${index}`,
    occurred_at: Date.now() - 3_600_000 + index,
    entity_key: `enc-${runId}-${index.toString(16)}`,
    features: { heart_rate: 70 + (index % 50), lactate: index % 11 === 0 ? null : 0.5 + (index % 8) / 2, admission_source: 'ED', on_antibiotics: index % 3 === 0 },
    score: (index % 1000) / 1000,
    predicted_label: index % 1000 >= 300 ? 1 : 0,
    decision_threshold: 0.3,
    segments: { site: `site-${index % 3}`, sex: index % 2 ? 'F' : 'M', age_band: '45-64' },
    producer: { service: 'foreign-inference', request_id: null },
    input_hash: null,
    ...overrides,
  };
}

/** An outcome as the Avro schema wants it: the ambiguous label union is wrapped ({ int: 1 }). */
export function foreignOutcome(index: number, runId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `${runId}-o-${index}`,
    model_id: 'sepsis-risk',
    prediction_id: `${runId}-${index}`,
    observed_at: Date.now() - 60_000,
    label: { int: index % 10 === 0 ? 1 : 0 },
    source: 'ehr-adjudication',
    ...overrides,
  };
}
