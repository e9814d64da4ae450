import type { ClickHouseClient } from '@clickhouse/client';
import type { OutcomeEvent, PredictionEvent } from '../../core/events/event-types.js';
import { clickhouseTime } from './clickhouse-time.js';

/** Where a stored event came from: enough to find the exact Kafka record again. */
export interface EventLineage {
  topic: string;
  partition: number;
  offset: string;
  schemaId: number;
}

export interface PredictionRow {
  event_id: string;
  model_id: string;
  model_version: string;
  prediction_id: string;
  occurred_at: string;
  entity_key: string;
  features_numeric: Record<string, number>;
  features_text: Record<string, string>;
  features_boolean: Record<string, boolean>;
  features_missing: string[];
  score: number;
  predicted_label: number | null;
  decision_threshold: number | null;
  segments: Record<string, string>;
  producer_service: string;
  producer_request_id: string | null;
  input_hash: string | null;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  schema_id: number;
  ingested_at: string;
}

export interface OutcomeRow {
  event_id: string;
  model_id: string;
  prediction_id: string;
  observed_at: string;
  label_kind: 'binary' | 'regression' | 'class';
  label_value: number | null;
  label_class: string | null;
  source: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  schema_id: number;
  ingested_at: string;
}

export function toPredictionRow(event: PredictionEvent, lineage: EventLineage, ingestedAtMs: number): PredictionRow {
  const numeric: Record<string, number> = {};
  const text: Record<string, string> = {};
  const boolean: Record<string, boolean> = {};
  const missing: string[] = [];
  for (const [name, value] of Object.entries(event.features)) {
    if (value === null) missing.push(name);
    else if (typeof value === 'number') numeric[name] = value;
    else if (typeof value === 'string') text[name] = value;
    else boolean[name] = value;
  }
  return {
    event_id: event.event_id,
    model_id: event.model_id,
    model_version: event.model_version,
    prediction_id: event.prediction_id,
    occurred_at: clickhouseTime(event.occurred_at),
    entity_key: event.entity_key,
    features_numeric: numeric,
    features_text: text,
    features_boolean: boolean,
    features_missing: missing,
    score: event.score,
    predicted_label: event.predicted_label,
    decision_threshold: event.decision_threshold,
    segments: event.segments,
    producer_service: event.producer.service,
    producer_request_id: event.producer.request_id,
    input_hash: event.input_hash,
    source_topic: lineage.topic,
    source_partition: lineage.partition,
    source_offset: lineage.offset,
    schema_id: lineage.schemaId,
    ingested_at: clickhouseTime(ingestedAtMs),
  };
}

export function toOutcomeRow(event: OutcomeEvent, lineage: EventLineage, ingestedAtMs: number): OutcomeRow {
  const label = event.label;
  return {
    event_id: event.event_id,
    model_id: event.model_id,
    prediction_id: event.prediction_id,
    observed_at: clickhouseTime(event.observed_at),
    label_kind: label.kind,
    label_value: label.kind === 'class' ? null : label.value,
    label_class: label.kind === 'class' ? label.value : null,
    source: event.source,
    source_topic: lineage.topic,
    source_partition: lineage.partition,
    source_offset: lineage.offset,
    schema_id: lineage.schemaId,
    ingested_at: clickhouseTime(ingestedAtMs),
  };
}

export type EventTable = 'predictions' | 'outcomes';

const PREDICTION_COLUMNS: readonly (keyof PredictionRow)[] = [
  'event_id', 'model_id', 'model_version', 'prediction_id', 'occurred_at', 'entity_key', 'features_numeric', 'features_text',
  'features_boolean', 'features_missing', 'score', 'predicted_label', 'decision_threshold', 'segments', 'producer_service',
  'producer_request_id', 'input_hash', 'source_topic', 'source_partition', 'source_offset', 'schema_id', 'ingested_at',
];
const OUTCOME_COLUMNS: readonly (keyof OutcomeRow)[] = [
  'event_id', 'model_id', 'prediction_id', 'observed_at', 'label_kind', 'label_value', 'label_class', 'source',
  'source_topic', 'source_partition', 'source_offset', 'schema_id', 'ingested_at',
];

/** Writes and counts raw events. Counts read FINAL: exact even while replayed duplicates await a merge. */
export class EventStore {
  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
  ) {}

  async insert(table: 'predictions', rows: readonly PredictionRow[]): Promise<void>;
  async insert(table: 'outcomes', rows: readonly OutcomeRow[]): Promise<void>;
  async insert(table: EventTable, rows: readonly (PredictionRow | OutcomeRow)[]): Promise<void> {
    if (rows.length === 0) return;
    // Positional rows (JSONCompactEachRow) cost about half of keyed ones to write and to parse.
    const columns = (table === 'predictions' ? PREDICTION_COLUMNS : OUTCOME_COLUMNS) as readonly string[];
    await this.client.insert({
      table: `${this.database}.${table}`,
      columns: [...columns] as [string, ...string[]],
      values: rows.map((row) => columns.map((column) => (row as unknown as Record<string, unknown>)[column])),
      format: 'JSONCompactEachRow',
    });
  }

  async count(table: EventTable): Promise<number> {
    const result = await this.client.query({ query: `SELECT count() AS rows FROM ${this.database}.${table} FINAL`, format: 'JSONEachRow' });
    const [row] = await result.json<{ rows: string | number }>();
    return Number(row?.rows ?? 0);
  }
}
