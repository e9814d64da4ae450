/**
 * The peer of the ingest benchmark: ClickHouse's own Kafka table engine, the ingestion a user would
 * pick instead of Vigil's collector. It reads one prediction topic (AvroConfluent, through the schema
 * registry) into Vigil's own predictions table (its migrations applied) and prints one JSON line.
 *
 * It runs as a process of its own: chDB opens one data folder per process, and the benchmark's
 * process already holds one for Vigil's collector; apart, the memory figures stay apart too.
 *   node dist/test/bench/kafka-engine-peer.js --topic=T --events=N --group=G --schema-id=ID [--consumers=3] [--timeout-seconds=120]
 * KAFKA_BROKERS and SCHEMA_REGISTRY_URL as for the benchmark.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { applyMigrations } from '../../services/adapters/clickhouse/migrations.js';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** What the benchmark reads back from this process's stdout. */
export interface KafkaEnginePeerResult {
  /** Rows in the target table when timing stopped. */
  rows: number;
  /** From CREATE TABLE of the Kafka engine table until count() reached the event count (or the timeout). */
  seconds: number;
  /** Rows seen by the first poll that saw any: the first block the engine stored. */
  firstRows: number;
  /** From that poll until count() reached the event count: the steady rate, without group join and first block. */
  secondsAfterFirstRows: number;
  timedOut: boolean;
  /** Distinct event ids stored; equal to rows unless something was read twice. */
  distinctEventIds: number;
  /** Rows whose feature maps do not hold what the benchmark's events carry (12 features, split by kind). */
  rowsWithUnexpectedFeatures: number;
  consumerExceptions: string[];
  peakRssMiB: number;
}

const { values } = parseArgs({
  options: {
    topic: { type: 'string' },
    events: { type: 'string' },
    group: { type: 'string' },
    'schema-id': { type: 'string' },
    consumers: { type: 'string', default: '3' },
    'timeout-seconds': { type: 'string', default: '120' },
  },
});
const topic = values.topic ?? '';
const eventCount = Number(values.events);
const groupName = values.group ?? '';
const schemaId = Number(values['schema-id']);
const consumerCount = Number(values.consumers);
const timeoutMs = Number(values['timeout-seconds']) * 1000;
const brokers = process.env.KAFKA_BROKERS ?? '';
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? '';
const NAME = /^[A-Za-z0-9._-]+$/;
if (!NAME.test(topic) || !NAME.test(groupName) || !(eventCount > 0) || !Number.isInteger(schemaId) || !(consumerCount >= 1) || !(timeoutMs > 0)) {
  throw new Error('usage: kafka-engine-peer --topic=T --events=N --group=G --schema-id=ID [--consumers=K] [--timeout-seconds=S]');
}
if (!brokers || !registryUrl) throw new Error('KAFKA_BROKERS and SCHEMA_REGISTRY_URL must be set');

/** Single-quoted SQL string literal. */
const sqlString = (value: string): string => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

const POLL_INTERVAL_MS = 200;
const DATABASE = 'kafka_peer';

/**
 * The Kafka engine table: the prediction schema as ClickHouse reads it from Avro. The map of
 * ["null", "double", "string", "boolean"] arrives as Map(String, Variant(Bool, Float64, String))
 * (a null value is the Variant's NULL), the producer record as a named Tuple, timestamp-millis as
 * DateTime64(3). ClickHouse 26.7 keeps the path of format_avro_schema_registry_url when it asks
 * for /schemas/ids/N, so the registry's /apis/ccompat/v7 base works as given, without a forwarder.
 *
 * Tuned as a ClickHouse user would for throughput: blocks of up to 50,000 rows, flushed at least
 * every 250 ms, up to one consumer per partition (more than one get a thread each, so that their
 * blocks are parsed and written in parallel), and a consumer group of its own so that it reads the
 * topic from the start (the engine's default auto.offset.reset is earliest).
 */
const queueTable = `
CREATE TABLE ${DATABASE}.prediction_queue
(
    event_id           String,
    model_id           String,
    model_version      String,
    prediction_id      String,
    occurred_at        DateTime64(3, 'UTC'),
    entity_key         String,
    features           Map(String, Variant(Bool, Float64, String)),
    score              Float64,
    predicted_label    Nullable(Int32),
    decision_threshold Nullable(Float64),
    segments           Map(String, String),
    producer           Tuple(service String, request_id Nullable(String)),
    input_hash         Nullable(String)
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = ${sqlString(brokers)},
    kafka_topic_list = ${sqlString(topic)},
    kafka_group_name = ${sqlString(groupName)},
    kafka_format = 'AvroConfluent',
    format_avro_schema_registry_url = ${sqlString(registryUrl)},
    kafka_num_consumers = ${consumerCount},
    kafka_thread_per_consumer = ${consumerCount > 1 ? 1 : 0},
    kafka_max_block_size = 50000,
    kafka_flush_interval_ms = 250`;

/**
 * The row Vigil's collector would store, as far as SQL on the engine's columns can make it:
 * - the feature map is split by Variant type into the numeric, text and boolean maps and the list
 *   of names with a null value, as Vigil splits it, so those four columns hold the same;
 * - lineage comes from the engine's virtual columns _topic, _partition and _offset; the engine does
 *   not expose a message's schema id (the wire header is consumed by the format), so schema_id is
 *   the id the benchmark registered, the same for every message of the topic;
 * - nothing checks meaning (score in [0, 1], ids, sane times, sizes) and there is no dead-letter
 *   topic: a message the format cannot parse fails the whole block (kafka_handle_error_mode
 *   'default'), where Vigil dead-letters that one record and stores the rest.
 */
const materializedView = `
CREATE MATERIALIZED VIEW ${DATABASE}.prediction_ingest TO ${DATABASE}.predictions AS
SELECT
    event_id,
    model_id,
    model_version,
    prediction_id,
    occurred_at,
    entity_key,
    mapApply((name, value) -> (name, assumeNotNull(variantElement(value, 'Float64'))), mapFilter((name, value) -> variantType(value) = 'Float64', features)) AS features_numeric,
    mapApply((name, value) -> (name, assumeNotNull(variantElement(value, 'String'))), mapFilter((name, value) -> variantType(value) = 'String', features)) AS features_text,
    mapApply((name, value) -> (name, assumeNotNull(variantElement(value, 'Bool'))), mapFilter((name, value) -> variantType(value) = 'Bool', features)) AS features_boolean,
    mapKeys(mapFilter((name, value) -> isNull(value), features)) AS features_missing,
    score,
    CAST(predicted_label, 'Nullable(UInt8)') AS predicted_label,
    decision_threshold,
    segments,
    producer.service AS producer_service,
    producer.request_id AS producer_request_id,
    input_hash,
    _topic AS source_topic,
    toInt32(_partition) AS source_partition,
    toInt64(_offset) AS source_offset,
    toInt32(${schemaId}) AS schema_id,
    now64(3, 'UTC') AS ingested_at
FROM ${DATABASE}.prediction_queue`;

async function selectNumber(client: ClickHouseClient, query: string): Promise<number> {
  const [row] = await (await client.query({ query, format: 'JSONEachRow' })).json<{ value: string | number }>();
  return Number(row?.value ?? 0);
}

async function run(client: ClickHouseClient): Promise<KafkaEnginePeerResult> {
  // Vigil's own tables, so that the engine's rows land in a table with exactly the columns, engine
  // and order of Vigil's predictions table.
  await applyMigrations(client, DATABASE);
  const countQuery = `SELECT count() AS value FROM ${DATABASE}.predictions`;
  const start = performance.now();
  await client.command({ query: queueTable });
  await client.command({ query: materializedView });
  let rows = 0;
  let firstRows = 0;
  let firstRowsAt = 0;
  while (rows < eventCount && performance.now() - start < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    rows = await selectNumber(client, countQuery);
    if (rows > 0 && firstRowsAt === 0) {
      firstRows = rows;
      firstRowsAt = performance.now();
    }
  }
  const end = performance.now();
  // Stop consuming before the checks, so that they read a table that no longer grows.
  await client.command({ query: `DROP TABLE ${DATABASE}.prediction_ingest` });
  const exceptions = await (
    await client.query({
      query: `SELECT arrayJoin(exceptions.text) AS text FROM system.kafka_consumers WHERE database = '${DATABASE}'`,
      format: 'JSONEachRow',
    })
  ).json<{ text: string }>();
  await client.command({ query: `DROP TABLE ${DATABASE}.prediction_queue` });
  const distinctEventIds = await selectNumber(client, `SELECT uniqExact(event_id) AS value FROM ${DATABASE}.predictions`);
  const rowsWithUnexpectedFeatures = await selectNumber(
    client,
    `SELECT countIf(length(features_numeric) + length(features_text) + length(features_boolean) + length(features_missing) != 12
       OR length(features_boolean) != 1 OR length(features_text) != 1) AS value FROM ${DATABASE}.predictions`,
  );
  return {
    rows,
    seconds: (end - start) / 1000,
    firstRows,
    secondsAfterFirstRows: firstRowsAt === 0 ? 0 : (end - firstRowsAt) / 1000,
    timedOut: rows < eventCount,
    distinctEventIds,
    rowsWithUnexpectedFeatures,
    consumerExceptions: [...new Set(exceptions.map((row) => row.text))].slice(0, 5),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const dataDirectory = mkdtempSync(join(tmpdir(), 'vigil-bench-kafka-engine-'));
mkdirSync(join(dataDirectory, 'clickhouse'));
// chDB types its connection against the retired @clickhouse/client-common package; the shape is the
// one @clickhouse/client expects (as in services/adapters/clickhouse/storage-client.ts).
const client = createClient({ connection: createChdbConnection({ path: join(dataDirectory, 'clickhouse') }) as unknown as ClientConnection });
try {
  process.stdout.write(`${JSON.stringify(await run(client))}\n`);
} finally {
  await client.close();
  rmSync(dataDirectory, { recursive: true, force: true });
}
