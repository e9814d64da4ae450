import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import type { OutcomeEvent, PredictionEvent } from '../../core/events/event-types.js';
import { labelToWire } from '../schema-registry/event-codec.js';
import { eventSchemas } from '../schema-registry/event-schemas.js';
import { avroObjectFile, extendRecordSchema, type TrailingField } from './avro-object-file.js';
import type { StorageTarget } from './storage-client.js';

/** Where a stored event came from: enough to find the exact Kafka record again. */
export interface EventLineage {
  topic: string;
  partition: number;
  offset: string;
  schemaId: number;
}

/**
 * One accepted event as it is stored: its Avro body in this build's reader schema, and where it came
 * from. ClickHouse decodes the body itself (see EventStore), so what is stored is exactly the event
 * the body encodes.
 */
export interface EventRow {
  readerBody: Buffer;
  lineage: EventLineage;
  ingestedAtMs: number;
}

/** The row for an event known only as a value (tests, tools): its body encoded anew. */
export function toPredictionRow(event: PredictionEvent, lineage: EventLineage, ingestedAtMs: number): EventRow {
  return { readerBody: eventSchemas.prediction.readerType.toBuffer(event), lineage, ingestedAtMs };
}

export function toOutcomeRow(event: OutcomeEvent, lineage: EventLineage, ingestedAtMs: number): EventRow {
  return { readerBody: eventSchemas.outcome.readerType.toBuffer({ ...event, label: labelToWire(event.label) }), lineage, ingestedAtMs };
}

export type EventTable = 'predictions' | 'outcomes';

/** Lineage travels with each body as fields after the event's own, named apart from them. */
const LINEAGE_FIELDS: readonly TrailingField[] = [
  { name: 'vigil_source_topic', type: 'string' },
  { name: 'vigil_source_partition', type: 'int' },
  { name: 'vigil_source_offset', type: 'long' },
  { name: 'vigil_schema_id', type: 'int' },
  { name: 'vigil_ingested_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
];
const LINEAGE_STRUCTURE = "vigil_source_topic String, vigil_source_partition Int32, vigil_source_offset Int64, vigil_schema_id Int32, vigil_ingested_at DateTime64(3, 'UTC')";
const LINEAGE_COLUMNS = 'source_topic, source_partition, source_offset, schema_id, ingested_at';
const LINEAGE_VALUES = 'vigil_source_topic, vigil_source_partition, vigil_source_offset, vigil_schema_id, vigil_ingested_at';

/** Kafka offsets are decimal strings; beyond 2^53 they are carried exactly as bigints. */
function offsetValue(offset: string): number | bigint {
  const value = Number(offset);
  return Number.isSafeInteger(value) ? value : BigInt(offset);
}

/**
 * How ClickHouse reads a file of one table's rows: the structure of the Avro records (the reader
 * schema with the lineage fields) and the expressions that turn them into the table's columns. The
 * feature map's union values arrive as a Variant and are split by their type into the typed maps.
 */
const TABLE_READS: Record<EventTable, { schemaJson: string; structure: string; columns: string; values: string; settings: string }> = {
  predictions: {
    schemaJson: JSON.stringify(extendRecordSchema(eventSchemas.prediction.schema, LINEAGE_FIELDS)),
    structure:
      "event_id String, model_id String, model_version String, prediction_id String, occurred_at DateTime64(3, 'UTC'), entity_key String, " +
      'features Map(String, Variant(Bool, Float64, String)), score Float64, predicted_label Nullable(Int32), decision_threshold Nullable(Float64), ' +
      'segments Map(String, String), producer Tuple(service String, request_id Nullable(String)), input_hash Nullable(String), ' +
      LINEAGE_STRUCTURE,
    columns:
      'event_id, model_id, model_version, prediction_id, occurred_at, entity_key, features_numeric, features_text, features_boolean, ' +
      `features_missing, score, predicted_label, decision_threshold, segments, producer_service, producer_request_id, input_hash, ${LINEAGE_COLUMNS}`,
    values:
      'event_id, model_id, model_version, prediction_id, occurred_at, entity_key, ' +
      "mapApply((name, value) -> (name, variantElement(value, 'Float64')), mapFilter((name, value) -> variantType(value) = 'Float64', features)), " +
      "mapApply((name, value) -> (name, variantElement(value, 'String')), mapFilter((name, value) -> variantType(value) = 'String', features)), " +
      "mapApply((name, value) -> (name, variantElement(value, 'Bool')), mapFilter((name, value) -> variantType(value) = 'Bool', features)), " +
      'mapKeys(mapFilter((name, value) -> isNull(value), features)), ' +
      `score, predicted_label, decision_threshold, segments, producer.service, producer.request_id, input_hash, ${LINEAGE_VALUES}`,
    settings: '',
  },
  outcomes: {
    schemaJson: JSON.stringify(extendRecordSchema(eventSchemas.outcome.schema, LINEAGE_FIELDS)),
    structure:
      "event_id String, model_id String, prediction_id String, observed_at DateTime64(3, 'UTC'), label Variant(Float64, Int32, String), source String, " +
      LINEAGE_STRUCTURE,
    columns: `event_id, model_id, prediction_id, observed_at, label_kind, label_value, label_class, source, ${LINEAGE_COLUMNS}`,
    values:
      'event_id, model_id, prediction_id, observed_at, ' +
      "multiIf(variantType(label) = 'Int32', 'binary', variantType(label) = 'Float64', 'regression', 'class'), " +
      "multiIf(variantType(label) = 'Int32', toFloat64(variantElement(label, 'Int32')), variantElement(label, 'Float64')), " +
      "variantElement(label, 'String'), " +
      `source, ${LINEAGE_VALUES}`,
    // The label's int and double branches are told apart by the Avro branch, as avsc does.
    settings: ' SETTINGS allow_suspicious_variant_types = 1',
  },
};

/** A SQL string literal of any text: backslashes and quotes escaped, so the text cannot end it. */
function sqlString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The insert of one table's rows: an Avro object container file of their bodies and lineage, as EventStore stores it. */
export function encodeInsertFile(table: EventTable, rows: readonly EventRow[], allocate?: (bytes: number) => Buffer): Buffer {
  return avroObjectFile(
    TABLE_READS[table].schemaJson,
    LINEAGE_FIELDS,
    rows,
    (row) => row.readerBody,
    (row) => [row.lineage.topic, row.lineage.partition, offsetValue(row.lineage.offset), row.lineage.schemaId, row.ingestedAtMs],
    allocate,
  );
}

/** Names of insert files carry this process's mark: files without it were left by a process that died. */
const PROCESS_MARK = randomUUID().slice(0, 8);
let insertFileSequence = 0;
const cleanedDirectories = new Set<string>();

/**
 * Writes and counts raw events. Counts read FINAL: exact even while replayed duplicates await a merge.
 *
 * An insert is one Avro object container file of the rows (avroObjectFile), which ClickHouse decodes
 * and maps into the table's columns in one `INSERT … SELECT`. Embedded, the file is written next to
 * chDB's data and read with `file()`: chDB passes inline insert data as text, which would corrupt
 * binary data, and data read from a file cannot end early and be parsed as statements. A server gets
 * the same bytes as the body of `INSERT … SELECT … FROM input(…) FORMAT Avro`.
 */
export class EventStore {
  readonly database: string;
  private readonly insertFiles: string | null;
  /** Where inserts go, each with its inserts in flight: the main client first, then any more sessions. */
  private readonly inserters: { client: ClickHouseClient; inFlight: number }[];

  /**
   * `moreInsertSessions` are further chDB sessions on the same folder: chDB runs one session's
   * queries one at a time, so inserts of different partitions overlap only across sessions. A
   * server's client runs requests side by side and needs none.
   */
  constructor(
    private readonly client: ClickHouseClient,
    target: StorageTarget,
    moreInsertSessions: readonly ClickHouseClient[] = [],
  ) {
    this.database = target.database;
    this.inserters = [client, ...moreInsertSessions].map((inserter) => ({ client: inserter, inFlight: 0 }));
    if (target.kind === 'server') {
      this.insertFiles = null;
      return;
    }
    this.insertFiles = resolve(target.dataDirectory, 'insert-files');
    // file() reads these characters as a glob pattern, which could name other files.
    if (/[*?{}[\]]/.test(this.insertFiles)) throw new Error(`the data directory ${target.dataDirectory} must not contain any of * ? { } [ ]`);
    prepareInsertFiles(this.insertFiles);
  }

  async insert(table: EventTable, rows: readonly EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.insertEncoded(table, encodeInsertFile(table, rows));
  }

  /** Stores a file of encodeInsertFile, built wherever the rows are (a collector thread builds its own). */
  async insertEncoded(table: EventTable, file: Buffer): Promise<void> {
    const read = TABLE_READS[table];
    const into = `INSERT INTO ${this.database}.${table} (${read.columns}) SELECT ${read.values}`;
    const inserter = this.inserters.reduce((idlest, candidate) => (candidate.inFlight < idlest.inFlight ? candidate : idlest));
    inserter.inFlight += 1;
    try {
      await this.send(inserter.client, into, read, file);
    } finally {
      inserter.inFlight -= 1;
    }
  }

  private async send(client: ClickHouseClient, into: string, read: (typeof TABLE_READS)[EventTable], file: Buffer): Promise<void> {
    if (this.insertFiles === null) {
      const result = await client.exec({
        query: `${into} FROM input(${sqlString(read.structure)})${read.settings} FORMAT Avro`,
        values: Readable.from([file]),
      });
      result.stream.resume();
      await finished(result.stream);
      return;
    }
    const path = join(this.insertFiles, `${PROCESS_MARK}-${++insertFileSequence}.avro`);
    await writeFile(path, file);
    try {
      await client.command({ query: `${into} FROM file(${sqlString(path)}, 'Avro', ${sqlString(read.structure)})${read.settings}` });
    } finally {
      // unlink, not rm: fs.promises.rm checks the path with a synchronous lstat, on this thread.
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }

  async count(table: EventTable): Promise<number> {
    const result = await this.client.query({ query: `SELECT count() AS rows FROM ${this.database}.${table} FINAL`, format: 'JSONEachRow' });
    const [row] = await result.json<{ rows: string | number }>();
    return Number(row?.rows ?? 0);
  }
}

/**
 * chDB opens a data folder in one process only, so insert files there without this process's mark
 * were left by one that died mid-insert; they are removed once per process.
 */
function prepareInsertFiles(directory: string): void {
  mkdirSync(directory, { recursive: true });
  if (cleanedDirectories.has(directory)) return;
  cleanedDirectories.add(directory);
  for (const name of readdirSync(directory)) {
    if (!name.startsWith(`${PROCESS_MARK}-`)) rmSync(join(directory, name), { force: true });
  }
}
