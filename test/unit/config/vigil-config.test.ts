import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../../services/adapters/project/project-files.js';
import { ConfigError, describeConfig, loadConfig, parseTargets } from '../../../services/config/vigil-config.js';

describe('loadConfig', () => {
  it('defaults to the embedded mode: in-process transport and chDB under ./data', () => {
    const config = loadConfig({});
    expect(config.transport).toEqual({ kind: 'in-process' });
    expect(config.storage).toEqual({ kind: 'embedded', dataDirectory: './data', database: 'vigil' });
    expect(config.topics).toEqual({ predictions: 'vigil.predictions.v1', outcomes: 'vigil.outcomes.v1', deadLetters: 'vigil.dlq.v1' });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 9464 });
    // Unset: the runtime claims a per-host slot, so two collectors with defaults do not fence each other.
    expect(config.instanceId).toBeUndefined();
    expect(loadConfig({ VIGIL_INSTANCE_ID: 'vigil-collector-2' }).instanceId).toBe('vigil-collector-2');
  });

  it('selects Kafka and a ClickHouse server when their variables are set', () => {
    const config = loadConfig({
      KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19093',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7/',
      CLICKHOUSE_URL: 'https://clickhouse.example:8443',
      CLICKHOUSE_PASSWORD: 's3cret',
    });
    expect(config.transport).toEqual({
      kind: 'kafka',
      brokers: ['127.0.0.1:19092', '127.0.0.1:19093'],
      clientId: 'vigil',
      schemaRegistryUrl: 'http://127.0.0.1:18081/apis/ccompat/v7',
    });
    expect(config.storage).toMatchObject({ kind: 'server', url: 'https://clickhouse.example:8443', username: 'default', password: 's3cret' });
    expect(JSON.stringify(describeConfig(config))).not.toContain('s3cret');
  });

  it.each([
    [{ VIGIL_HTTP_PORT: 'eighty' }, 'VIGIL_HTTP_PORT'],
    [{ VIGIL_HTTP_PORT: '70000' }, 'VIGIL_HTTP_PORT'],
    [{ KAFKA_BROKERS: '127.0.0.1:19092' }, 'SCHEMA_REGISTRY_URL'],
    [{ KAFKA_BROKERS: 'localhost', SCHEMA_REGISTRY_URL: 'http://x' }, 'KAFKA_BROKERS'],
    [{ CLICKHOUSE_URL: 'tcp://clickhouse:9000' }, 'CLICKHOUSE_URL'],
    [{ CLICKHOUSE_DATABASE: 'drop table' }, 'CLICKHOUSE_DATABASE'],
    [{ VIGIL_PREDICTIONS_TOPIC: 'bad topic' }, 'VIGIL_PREDICTIONS_TOPIC'],
    [{ VIGIL_LOG_LEVEL: 'loud' }, 'VIGIL_LOG_LEVEL'],
    [{ VIGIL_SIMULATOR_RATE: '-5' }, 'VIGIL_SIMULATOR_RATE'],
    [{ VIGIL_INSTANCE_ID: 'collector 1' }, 'VIGIL_INSTANCE_ID'],
    [{ VIGIL_SIMULATOR_SCENARIO: 'meteor-strike' }, 'VIGIL_SIMULATOR_SCENARIO'],
    [{ VIGIL_SIMULATOR_SCENARIO_HOURS: '0' }, 'VIGIL_SIMULATOR_SCENARIO_HOURS'],
    [{ VIGIL_SIMULATOR_SCENARIO_HOURS: 'a day' }, 'VIGIL_SIMULATOR_SCENARIO_HOURS'],
    [{ VIGIL_MODELS_DIR: 'models\nother' }, 'VIGIL_MODELS_DIR'],
  ])('names the bad variable in %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrowError(ConfigError);
    expect(() => loadConfig(env)).toThrowError(new RegExp(`^${variable}:`));
  });

  it('finds model specifications in the project infra/models unless VIGIL_MODELS_DIR names a folder', () => {
    expect(loadConfig({}).modelsDirectory).toBe(projectPath('infra', 'models'));
    expect(loadConfig({ VIGIL_MODELS_DIR: ' ' }).modelsDirectory).toBe(projectPath('infra', 'models'));
    expect(loadConfig({ VIGIL_MODELS_DIR: 'deploy/models' }).modelsDirectory).toBe(resolve('deploy/models'));
    expect(loadConfig({ VIGIL_MODELS_DIR: '/etc/vigil/models' }).modelsDirectory).toBe('/etc/vigil/models');
  });

  it('plays a scenario to the end of the run unless VIGIL_SIMULATOR_SCENARIO_HOURS ends it', () => {
    expect(loadConfig({}).simulator).toMatchObject({ scenario: 'stable', scenarioLastsHours: undefined });
    expect(loadConfig({ VIGIL_SIMULATOR_SCENARIO: 'silent-site', VIGIL_SIMULATOR_SCENARIO_HOURS: ' 12.5 ' }).simulator).toMatchObject({ scenario: 'silent-site', scenarioLastsHours: 12.5 });
  });

  it('redacts credentials embedded in URLs', () => {
    const config = loadConfig({ CLICKHOUSE_URL: 'https://admin:hunter2@clickhouse.example:8443' });
    expect(JSON.stringify(describeConfig(config))).not.toContain('hunter2');
  });
});

describe('parseTargets', () => {
  it('expands all and keeps extra targets', () => {
    expect(parseTargets('all,simulator')).toEqual(['collector', 'monitor', 'simulator']);
    expect(parseTargets('collector')).toEqual(['collector']);
  });

  it('refuses unknown targets by name', () => {
    expect(() => parseTargets('all,ingester')).toThrowError(/unknown target "ingester"/);
  });
});
