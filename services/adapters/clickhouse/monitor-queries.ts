import type { ClickHouseClient } from '@clickhouse/client';
import { MISSING_GROUP } from '../../core/metrics/fairness/group-fairness.js';
import type { ReferenceColumns, WindowShape } from '../../core/metrics/sketches/window-sketch.js';
import type { SegmentGroupCounts } from '../../core/monitoring/volume-rows.js';
import type { ProductionRange } from '../../core/monitoring/window-plan.js';
import { summaryOf, type WindowSummary } from '../../core/monitoring/window-parts.js';
import { ReferenceDigest, type ReferenceValue } from '../../core/baseline/baseline-version.js';

/**
 * The monitor's reads of the raw tables and of its own results: cheap summaries that say which
 * windows need an evaluation, and the baseline's predictions as columns. Reads are FINAL through
 * the client's `final = 1`, so a replayed event changes no summary.
 */

/** The baseline's predictions are read in cityHash64(event_id) order and cut here: a deterministic sample, so memory stays bounded and a re-fit reads the same rows. */
export const BASELINE_ROW_CAP = 200_000;

type Count = number | string;

const windowStartExpression = (column: string): string => `intDiv(toUnixTimestamp64Milli(${column}), {size:Int64}) * {size:Int64}`;

export class MonitorQueries {
  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
  ) {}

  private async rows<Row>(query: string, parameters: Record<string, unknown>): Promise<Row[]> {
    return (await this.client.query({ query, query_params: parameters, format: 'JSONEachRow' })).json<Row>();
  }

  /** The model's event-time watermark: the latest occurred_at of its stored predictions, or null when it has none. */
  async watermark(modelId: string): Promise<number | null> {
    const [row] = await this.rows<{ predictions: Count; latest: Count }>(
      `SELECT count() AS predictions, toUnixTimestamp64Milli(max(occurred_at)) AS latest FROM ${this.database}.predictions WHERE model_id = {model:String}`,
      { model: modelId },
    );
    return row === undefined || Number(row.predictions) === 0 ? null : Number(row.latest);
  }

  /** Stored predictions of the model with occurred_at in [from, to), replays once: a read of the sorting key alone. */
  async storedPredictions(modelId: string, from: number, to: number): Promise<number> {
    const [row] = await this.rows<{ predictions: Count }>(
      `SELECT count() AS predictions FROM ${this.database}.predictions
       WHERE model_id = {model:String} AND occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
      { model: modelId, from, to },
    );
    return Number(row?.predictions ?? 0);
  }

  /** Starts of the windows that hold predictions and were never evaluated, newest first. */
  async unevaluatedWindows(modelId: string, sizeMs: number, windowSize: string): Promise<number[]> {
    const rows = await this.rows<{ window_start: Count }>(
      `SELECT DISTINCT ${windowStartExpression('occurred_at')} AS window_start
       FROM ${this.database}.predictions
       WHERE model_id = {model:String}
         AND window_start NOT IN (
           SELECT toUnixTimestamp64Milli(window_start) FROM ${this.database}.window_evaluations
           WHERE model_id = {model:String} AND window_size = {windowSize:String})
       ORDER BY window_start DESC`,
      { model: modelId, size: sizeMs, windowSize },
    );
    return rows.map((row) => Number(row.window_start));
  }

  /** Starts of the windows whose latest evaluation is provisional although they end by `finalEnd`, newest first. */
  async windowsDueFinal(modelId: string, windowSize: string, finalEnd: number): Promise<number[]> {
    const rows = await this.rows<{ window_start: Count }>(
      `SELECT toUnixTimestamp64Milli(window_start) AS window_start
       FROM ${this.database}.window_evaluations
       WHERE model_id = {model:String} AND window_size = {windowSize:String}
       GROUP BY window_start
       HAVING argMax(window_state, (evaluated_at, evaluation_id)) = 'provisional' AND max(window_end) <= fromUnixTimestamp64Milli({finalEnd:Int64}, 'UTC')
       ORDER BY window_start DESC`,
      { model: modelId, windowSize, finalEnd },
    );
    return rows.map((row) => Number(row.window_start));
  }

  /**
   * The summary of every window of the model from `from` on (a window start), and before `to` when
   * given: predictions by their occurred_at, outcomes by the window of their prediction, as
   * WindowCells places them. Windows without a stored prediction have none.
   *
   * Outcomes find their predictions by a 64-bit hash of the prediction id: the join holds 8 bytes a
   * prediction instead of its id (a week of 7,000,000 predictions: 745 against 1,205 MiB, 3.3
   * against 5.5 s). A summary only tells that a window changed, and a collision can only count an
   * outcome in a second window too, never hide one, so it can cause an evaluation, never skip one.
   */
  async windowSummaries(modelId: string, sizeMs: number, from: number, to = Number.MAX_SAFE_INTEGER): Promise<WindowSummary[]> {
    const rows = await this.rows<{ window_start: Count; predictions: Count; predictions_stored: Count; outcomes: Count; outcomes_stored: Count }>(
      `WITH recent AS (
         SELECT cityHash64(prediction_id) AS id_hash, occurred_at, ingested_at FROM ${this.database}.predictions
         WHERE model_id = {model:String} AND occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
           AND toUnixTimestamp64Milli(occurred_at) < {to:Int64}
       )
       SELECT predicted.window_start AS window_start, predictions, predictions_stored, outcomes, outcomes_stored
       FROM (
         SELECT ${windowStartExpression('occurred_at')} AS window_start, count() AS predictions, toUnixTimestamp64Milli(max(ingested_at)) AS predictions_stored
         FROM recent GROUP BY window_start
       ) AS predicted
       LEFT JOIN (
         SELECT ${windowStartExpression('prediction.occurred_at')} AS window_start, count() AS outcomes, toUnixTimestamp64Milli(max(outcome.ingested_at)) AS outcomes_stored
         FROM ${this.database}.outcomes AS outcome
         INNER JOIN recent AS prediction ON cityHash64(outcome.prediction_id) = prediction.id_hash
         WHERE outcome.model_id = {model:String} AND outcome.observed_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
         GROUP BY window_start
       ) AS observed ON predicted.window_start = observed.window_start`,
      { model: modelId, size: sizeMs, from, to },
    );
    return rows.map((row) =>
      summaryOf({
        windowStart: Number(row.window_start),
        predictions: Number(row.predictions),
        predictionsStoredAt: Number(row.predictions_stored),
        outcomes: Number(row.outcomes),
        outcomesStoredAt: Number(row.outcomes_stored),
      }),
    );
  }

  /**
   * The predictions of a production range as reference columns, each prediction_id once as a
   * window counts it (its earliest stored copy, in the range only if that copy is), at most BASELINE_ROW_CAP of them
   * (the first by cityHash64(event_id)), with the digest of its rows taken in the order read (a
   * unique, defined order) and its predictions per group of each segment attribute. A prediction
   * that WindowCells would refuse (a numeric feature sent as text or boolean, a categorical one sent
   * as a number, a score outside [0, 1]) is left out here too; a boolean categorical value is the
   * category "true" or "false".
   *
   * Each row's label is its prediction's outcome as WindowCells scores it: the latest outcome of
   * the prediction_id, by (observed_at, event_id), whenever it was observed, counts when it is a
   * binary 0 or 1 and is otherwise, as is a prediction without outcome, null. The digest holds it
   * under `labelColumn` (the spec's label column, where a reference file holds it), so a changed or
   * newly arrived label is a new digest.
   */
  async baselineColumns(
    modelId: string,
    shape: WindowShape,
    range: ProductionRange,
    labelColumn: string,
  ): Promise<{ rowCount: number; columns: ReferenceColumns & { labels: (0 | 1 | null)[] }; digest: string; segmentGroups: SegmentGroupCounts }> {
    const numericFeatures = shape.features.flatMap((feature) => (feature.type === 'numeric' ? [feature.name] : []));
    const categoricalFeatures = shape.features.flatMap((feature) => (feature.type === 'categorical' ? [feature.name] : []));
    const parameters = { model: modelId, from: range.from, to: range.to, numericFeatures, categoricalFeatures, cap: BASELINE_ROW_CAP };
    // The baseline's rows: the first BASELINE_ROW_CAP by cityHash64(event_id), the order the digest takes them in.
    const baselineRows = (columns: string): string => `
        SELECT ${columns}
        FROM ${this.database}.predictions
        WHERE model_id = {model:String}
          AND occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
          AND score >= 0 AND score <= 1
          AND NOT arrayExists(name -> mapContains(features_text, name) OR mapContains(features_boolean, name), {numericFeatures:Array(String)})
          AND NOT arrayExists(name -> mapContains(features_numeric, name), {categoricalFeatures:Array(String)})
          -- Each prediction_id once, as a window counts it: its earliest copy, in the range only if that copy is.
          AND (prediction_id, occurred_at, event_id) IN (
            SELECT prediction_id, first_copy.1, first_copy.2 FROM (
              SELECT prediction_id, min((occurred_at, event_id)) AS first_copy
              FROM ${this.database}.predictions
              WHERE model_id = {model:String} AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
                AND prediction_id IN (
                  SELECT prediction_id FROM ${this.database}.predictions
                  WHERE model_id = {model:String}
                    AND occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC'))
              GROUP BY prediction_id))
        ORDER BY cityHash64(event_id), event_id
        LIMIT {cap:UInt32}`;
    const [result, segmentGroups] = await Promise.all([
      this.client.query({
        // The join keeps every baseline row (an unmatched one has the NULL default of a Nullable label); the outer ORDER BY restores the digest's order.
        query: `
          SELECT baseline.numeric, baseline.categorical, baseline.score, outcome.label
          FROM (${baselineRows(`
            prediction_id, event_id, cityHash64(event_id) AS baseline_order,
            arrayMap(name -> if(mapContains(features_numeric, name), toNullable(features_numeric[name]), NULL), {numericFeatures:Array(String)}) AS numeric,
            arrayMap(
              name -> if(mapContains(features_text, name), toNullable(features_text[name]),
                      if(mapContains(features_boolean, name), toNullable(toString(features_boolean[name])), NULL)),
              {categoricalFeatures:Array(String)}) AS categorical,
            score`)}) AS baseline
          LEFT JOIN (
            SELECT prediction_id,
              argMax((label_kind, label_value), (observed_at, event_id)) AS latest,
              if(latest.1 = 'binary' AND latest.2 IN (0, 1), toNullable(toUInt8(latest.2)), NULL) AS label
            FROM ${this.database}.outcomes
            WHERE model_id = {model:String} AND prediction_id IN (SELECT prediction_id FROM (${baselineRows('prediction_id')}))
            GROUP BY prediction_id
          ) AS outcome ON baseline.prediction_id = outcome.prediction_id
          ORDER BY baseline.baseline_order, baseline.event_id`,
        query_params: parameters,
        format: 'JSONCompactEachRow',
      }),
      this.baselineSegmentGroups(shape.segments, baselineRows('segments'), parameters),
    ]);
    const rows = await result.json<[(number | null)[], (string | null)[], number, 0 | 1 | null]>();
    const digest = new ReferenceDigest([...numericFeatures, ...categoricalFeatures, shape.scoreColumn, labelColumn]);
    for (const [numericValues, categoricalValues, score, label] of rows) {
      const row: Record<string, ReferenceValue> = { [shape.scoreColumn]: score, [labelColumn]: label };
      numericFeatures.forEach((name, index) => (row[name] = numericValues[index] ?? null));
      categoricalFeatures.forEach((name, index) => (row[name] = categoricalValues[index] ?? null));
      digest.add(row);
    }
    const numeric = new Map(numericFeatures.map((name, index) => [name, rows.map((row) => row[0][index] ?? null)]));
    const categorical = new Map(categoricalFeatures.map((name, index) => [name, rows.map((row) => row[1][index] ?? null)]));
    const column = <T>(columns: Map<string, T>, name: string): T => {
      const values = columns.get(name);
      if (values === undefined) throw new Error(`column ${name} was not read`);
      return values;
    };
    return {
      rowCount: rows.length,
      digest: digest.digest(),
      segmentGroups,
      columns: {
        numeric: (name) => column(numeric, name),
        categorical: (name) => column(categorical, name),
        scores: Float64Array.from(rows, (row) => row[2]),
        labels: rows.map((row) => row[3]),
      },
    };
  }

  /** Counts of the baseline's rows per group of each segment attribute, aggregated in ClickHouse rather than read row by row. */
  private async baselineSegmentGroups(segments: readonly string[], baselineRows: string, parameters: Record<string, unknown>): Promise<SegmentGroupCounts> {
    const rows = await this.rows<{ segment: number; segment_group: string; count: Count }>(
      `SELECT segment, segment_group, count() AS count
       FROM (${baselineRows})
       ARRAY JOIN
         arrayEnumerate({segmentNames:Array(String)}) AS segment,
         arrayMap(name -> if(mapContains(segments, name), segments[name], {missingGroup:String}), {segmentNames:Array(String)}) AS segment_group
       GROUP BY segment, segment_group`,
      { ...parameters, segmentNames: segments, missingGroup: MISSING_GROUP },
    );
    const counts = new Map(segments.map((segment) => [segment, new Map<string, number>()]));
    for (const row of rows) counts.get(segments[row.segment - 1]!)!.set(row.segment_group, Number(row.count));
    return counts;
  }
}
