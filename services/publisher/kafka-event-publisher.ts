import { pino, type Logger } from 'pino';
import { KafkaTransport } from '../adapters/kafka/kafka-transport.js';
import { ConfluentSchemaSource } from '../adapters/schema-registry/confluent-schema-source.js';
import { EventCodec } from '../adapters/schema-registry/event-codec.js';
import { TransportEventPublisher, type PublisherTopics } from './transport-event-publisher.js';

export interface KafkaEventPublisherOptions {
  brokers: string[];
  schemaRegistryUrl: string;
  topics?: PublisherTopics;
  clientId?: string;
  logger?: Logger;
}

export const DEFAULT_PUBLISHER_TOPICS: PublisherTopics = { predictions: 'vigil.predictions.v1', outcomes: 'vigil.outcomes.v1' };

/**
 * The publisher an inference service embeds: registers the event schemas, connects a producer
 * (acks from all in-sync replicas) and returns a typed publisher plus its close function.
 */
export async function connectKafkaEventPublisher(options: KafkaEventPublisherOptions): Promise<{ publisher: TransportEventPublisher; close: () => Promise<void> }> {
  const topics = options.topics ?? DEFAULT_PUBLISHER_TOPICS;
  const transport = new KafkaTransport({
    brokers: options.brokers,
    clientId: options.clientId ?? 'vigil-publisher',
    instanceId: 'publisher',
    logger: options.logger ?? pino({ level: 'warn' }),
  });
  const codec = new EventCodec(new ConfluentSchemaSource(options.schemaRegistryUrl));
  await codec.registerSchemas(topics);
  const producer = await transport.createProducer();
  return {
    publisher: new TransportEventPublisher(producer, codec, topics),
    close: async () => {
      await producer.close();
      await transport.close();
    },
  };
}
