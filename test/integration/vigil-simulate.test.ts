import { spawnSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { uniqueTopics } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';

async function messageCount(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'test-inspector', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('vigil simulate', () => {
  it('publishes the requested predictions and every outcome to Kafka, then exits', async () => {
    const endpoints = stackEndpoints();
    const topics = uniqueTopics();
    const kafka = new Kafka({ clientId: 'test-setup', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await kafka.connect();
    await kafka.createTopics({ topics: [topics.predictions, topics.outcomes].map((topic) => ({ topic, numPartitions: 2 })), waitForLeaders: true });
    await kafka.disconnect();

    const result = spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), 'simulate', '--rate=2000', '--count=600', '--seed=5'], {
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
        VIGIL_PREDICTIONS_TOPIC: topics.predictions,
        VIGIL_OUTCOMES_TOPIC: topics.outcomes,
        VIGIL_LOG_LEVEL: 'warn',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('vigil simulate: published 600 predictions and 600 outcomes');
    expect(await messageCount(endpoints.kafkaBrokers, topics.predictions)).toBe(600);
    expect(await messageCount(endpoints.kafkaBrokers, topics.outcomes)).toBe(600);
  });

  it('refuses a scenario that lasts no time, naming the option, before it connects to anything', () => {
    const result = spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), 'simulate', '--scenario=silent-site', '--scenario-hours=0', '--count=10'], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("option '--scenario-hours <hours>' argument '0' is invalid");
  });

  it('refuses to run without Kafka and says what to do instead', () => {
    const result = spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), 'simulate', '--count=10'], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('KAFKA_BROKERS: vigil simulate publishes to Kafka');
  });
});
