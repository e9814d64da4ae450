/** The real services the integration tests run against, as `npm test` exports them. */
export interface StackEndpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
}

export function stackEndpoints(): StackEndpoints {
  const brokers = process.env.KAFKA_BROKERS;
  const registry = process.env.SCHEMA_REGISTRY_URL;
  if (!brokers || !registry) {
    throw new Error('KAFKA_BROKERS and SCHEMA_REGISTRY_URL are not set: run the suite with `npm test`, which starts Kafka and the registry and exports them');
  }
  return { kafkaBrokers: brokers.split(','), schemaRegistryUrl: registry.replace(/\/+$/, '') };
}
