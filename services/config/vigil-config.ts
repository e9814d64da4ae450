import { resolve } from 'node:path';
import type { StorageTarget } from '../adapters/clickhouse/storage-client.js';
import { projectPath } from '../adapters/project/project-files.js';
import { SCENARIO_NAMES, type ScenarioName } from '../simulator/scenarios.js';

/**
 * Vigil's whole configuration, built and validated once at start-up from the environment and the
 * command-line flags. Every error names the variable or flag at fault.
 */

export const SERVICE_TARGETS = ['collector', 'monitor'] as const;
export const EXTRA_TARGETS = ['simulator'] as const;
export type Target = (typeof SERVICE_TARGETS)[number] | (typeof EXTRA_TARGETS)[number];

export type TransportConfig =
  | { kind: 'in-process' }
  | { kind: 'kafka'; brokers: string[]; clientId: string; schemaRegistryUrl: string };

export interface TopicNames {
  predictions: string;
  outcomes: string;
  deadLetters: string;
}

export interface VigilConfig {
  http: { host: string; port: number };
  transport: TransportConfig;
  topics: TopicNames;
  topicPartitions: number;
  consumerGroup: string;
  /**
   * Stable name of this process within its consumer group (Kafka transactional id suffix); unset,
   * the runtime claims `<host>-<n>` with the lowest n no other running process of the group holds.
   */
  instanceId: string | undefined;
  storage: StorageTarget;
  /** Absolute path of the folder of model specifications, one `*.model.yaml|yml|json` file per model. */
  modelsDirectory: string;
  maxEventBytes: number;
  maxFutureSkewMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** auto: text when stderr is a terminal, JSON lines otherwise. */
  logFormat: 'json' | 'text' | 'auto';
  /** seed undefined: a new one each run, so that a second run's events are not taken for replays. */
  /** scenario: the clinical drift scenario the simulator plays (see services/simulator/scenarios.ts). */
  /** scenarioLastsHours: simulated hours the scenario's change lasts; undefined, to the end of the run. */
  simulator: { predictionsPerSecond: number; count: number; seed: number | undefined; scenario: ScenarioName; scenarioLastsHours: number | undefined };
  /** How long the monitor waits after one pass over the models before the next. */
  monitor: { intervalMs: number };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

function text(env: Environment, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? fallback : value;
}

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `expected a number from ${min} to ${max}, got ${value}`);
  return value;
}

function positiveNumber(env: Environment, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(name, `expected a positive number, got "${raw}"`);
  return value;
}

function oneOf<T extends string>(env: Environment, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name, fallback);
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function httpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `expected an http(s) URL, got "${url.protocol}"`);
  return raw.replace(/\/+$/, '');
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
function topic(env: Environment, name: string, fallback: string): string {
  const value = text(env, name, fallback);
  if (!TOPIC_NAME.test(value)) throw new ConfigError(name, `"${value}" is not a valid Kafka topic name`);
  return value;
}

function brokers(raw: string): string[] {
  const list = raw.split(',').map((broker) => broker.trim()).filter((broker) => broker.length > 0);
  for (const broker of list) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new ConfigError('KAFKA_BROKERS', `expected host:port[,host:port...], got "${broker}"`);
  }
  if (list.length === 0) throw new ConfigError('KAFKA_BROKERS', 'is set but names no broker');
  return list;
}

const INSTANCE_ID = /^[A-Za-z0-9._-]{1,200}$/;
function instanceId(env: Environment): string | undefined {
  const value = env.VIGIL_INSTANCE_ID?.trim();
  if (value === undefined || value === '') return undefined;
  if (!INSTANCE_ID.test(value)) throw new ConfigError('VIGIL_INSTANCE_ID', `expected letters, digits, '.', '_' or '-' (at most 200), got "${value.slice(0, 40)}"`);
  return value;
}

function storage(env: Environment): StorageTarget {
  const database = text(env, 'CLICKHOUSE_DATABASE', 'vigil');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database)) throw new ConfigError('CLICKHOUSE_DATABASE', `"${database}" is not a valid database name`);
  const url = env.CLICKHOUSE_URL?.trim();
  if (!url) return { kind: 'embedded', dataDirectory: text(env, 'VIGIL_DATA_DIR', './data'), database };
  return {
    kind: 'server',
    url: httpUrl('CLICKHOUSE_URL', url),
    username: text(env, 'CLICKHOUSE_USER', 'default'),
    password: env.CLICKHOUSE_PASSWORD ?? '',
    database,
  };
}

/**
 * Relative to the working directory, like VIGIL_DATA_DIR; the default is the project's own
 * infra/models, found from the code, so it holds wherever Vigil is started.
 */
function modelsDirectory(env: Environment): string {
  const value = text(env, 'VIGIL_MODELS_DIR', projectPath('infra', 'models'));
  // A control character in a path is a pasting accident, and a NUL would reach the file system as an opaque error.
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ConfigError('VIGIL_MODELS_DIR', 'contains a control character');
  return resolve(value);
}

export function loadConfig(env: Environment): VigilConfig {
  const brokerList = env.KAFKA_BROKERS?.trim();
  let transport: TransportConfig = { kind: 'in-process' };
  if (brokerList) {
    const registry = env.SCHEMA_REGISTRY_URL?.trim();
    if (!registry) throw new ConfigError('SCHEMA_REGISTRY_URL', 'is required when KAFKA_BROKERS is set (the Confluent-compatible registry URL)');
    transport = {
      kind: 'kafka',
      brokers: brokers(brokerList),
      clientId: text(env, 'KAFKA_CLIENT_ID', 'vigil'),
      schemaRegistryUrl: httpUrl('SCHEMA_REGISTRY_URL', registry),
    };
  }
  return {
    http: { host: text(env, 'VIGIL_HTTP_HOST', '127.0.0.1'), port: integer(env, 'VIGIL_HTTP_PORT', 9464, 0, 65535) },
    transport,
    topics: {
      predictions: topic(env, 'VIGIL_PREDICTIONS_TOPIC', 'vigil.predictions.v1'),
      outcomes: topic(env, 'VIGIL_OUTCOMES_TOPIC', 'vigil.outcomes.v1'),
      deadLetters: topic(env, 'VIGIL_DEAD_LETTER_TOPIC', 'vigil.dlq.v1'),
    },
    topicPartitions: integer(env, 'VIGIL_TOPIC_PARTITIONS', 3, 1, 1024),
    consumerGroup: text(env, 'VIGIL_CONSUMER_GROUP', 'vigil-collector'),
    instanceId: instanceId(env),
    storage: storage(env),
    modelsDirectory: modelsDirectory(env),
    maxEventBytes: integer(env, 'VIGIL_MAX_EVENT_BYTES', 256 * 1024, 256, 16 * 1024 * 1024),
    maxFutureSkewMs: integer(env, 'VIGIL_MAX_FUTURE_SKEW_SECONDS', 300, 0, 7 * 24 * 3600) * 1000,
    logLevel: oneOf(env, 'VIGIL_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, 'info'),
    logFormat: oneOf(env, 'VIGIL_LOG_FORMAT', ['json', 'text', 'auto'] as const, 'auto'),
    simulator: {
      predictionsPerSecond: positiveNumber(env, 'VIGIL_SIMULATOR_RATE', 200),
      count: integer(env, 'VIGIL_SIMULATOR_COUNT', 100_000, 1, Number.MAX_SAFE_INTEGER),
      seed: env.VIGIL_SIMULATOR_SEED?.trim() ? integer(env, 'VIGIL_SIMULATOR_SEED', 0, 0, 2 ** 31 - 1) : undefined,
      scenario: oneOf(env, 'VIGIL_SIMULATOR_SCENARIO', SCENARIO_NAMES, 'stable'),
      scenarioLastsHours: env.VIGIL_SIMULATOR_SCENARIO_HOURS?.trim() ? positiveNumber(env, 'VIGIL_SIMULATOR_SCENARIO_HOURS', 0) : undefined,
    },
    monitor: { intervalMs: Math.round(positiveNumber(env, 'VIGIL_MONITOR_INTERVAL_SECONDS', 5) * 1000) },
  };
}

/** `--target=all,simulator` → the targets to start; `all` means every service target. */
export function parseTargets(raw: string): Target[] {
  const targets = new Set<Target>();
  for (const name of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
    if (name === 'all') SERVICE_TARGETS.forEach((target) => targets.add(target));
    else if ((SERVICE_TARGETS as readonly string[]).includes(name) || (EXTRA_TARGETS as readonly string[]).includes(name)) targets.add(name as Target);
    else throw new ConfigError('--target', `unknown target "${name}"; expected all, ${[...SERVICE_TARGETS, ...EXTRA_TARGETS].join(', ')}`);
  }
  if (targets.size === 0) throw new ConfigError('--target', 'names no target');
  return [...targets];
}

/** The configuration as it may be logged: no password, no credentials in URLs. */
export function describeConfig(config: VigilConfig): Record<string, unknown> {
  return {
    http: `${config.http.host}:${config.http.port}`,
    transport: config.transport.kind === 'kafka' ? { brokers: config.transport.brokers, schemaRegistry: redactUrl(config.transport.schemaRegistryUrl) } : 'in-process',
    topics: config.topics,
    consumerGroup: config.consumerGroup,
    storage: config.storage.kind === 'embedded' ? { embedded: config.storage.dataDirectory, database: config.storage.database } : { url: redactUrl(config.storage.url), database: config.storage.database },
  };
}

function redactUrl(raw: string): string {
  const url = new URL(raw);
  if (url.username || url.password) {
    url.username = '***';
    url.password = '';
  }
  return url.toString();
}
