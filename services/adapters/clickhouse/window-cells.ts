import type { ClickHouseClient } from '@clickhouse/client';
import { MISSING_GROUP } from '../../core/metrics/fairness/group-fairness.js';
import { LOG_LOSS_CLIP } from '../../core/metrics/performance/binary-classification.js';
import type { NumericReferenceProfile, SerializedNumericFeatureSketch } from '../../core/metrics/sketches/numeric-feature-sketch.js';
import { DEFAULT_RESOLUTION, type SerializedScoreLabelSketch } from '../../core/metrics/sketches/score-label-sketch.js';
import type { SerializedScoreSketch } from '../../core/metrics/sketches/score-sketch.js';
import type { ReferenceProfile, SerializedWindowSketch } from '../../core/metrics/sketches/window-sketch.js';
import type { WindowLabels } from '../../core/monitoring/label-rows.js';
import type { SegmentGroupCounts } from '../../core/monitoring/volume-rows.js';

/**
 * A window's sketches aggregated where the events are: ClickHouse reads the raw tables and returns
 * the cells of every sketch of the window, which the core revives with WindowSketch.fromJSON, so
 * the monitor holds as many numbers as there are non-empty cells, whatever the number of events.
 *
 * What belongs to the window [start, end) of one model:
 * - A prediction is identified by (model_id, prediction_id), the key outcomes join on. Reads are
 *   FINAL (the client's `final = 1`), so a replayed event counts once. When several stored
 *   predictions carry one prediction_id, the earliest (occurred_at, then event_id) is the
 *   prediction, in the window of its occurred_at; the others are counted as repeated and sketched
 *   nowhere, so no prediction and no outcome is counted twice across windows.
 * - A prediction whose numeric feature arrives as text or boolean, whose categorical feature
 *   arrives as a number, or whose score is not a probability is refused whole, as
 *   WindowSketch.addPrediction refuses it. A boolean categorical value is the category "true" or
 *   "false", as datasets read it. A feature absent or listed as missing is missing.
 * - An outcome belongs to the window of its prediction. When a prediction has several outcomes,
 *   the latest (observed_at, then event_id) wins, since a later outcome corrects an earlier one;
 *   the earlier ones are counted as superseded. Only a binary 0/1 label is scored; a regression or
 *   class label is counted as unscored. Outcomes of a refused prediction are counted as such.
 * - An outcome whose prediction is not stored has no prediction time: it is counted, never
 *   sketched, in the window of its observed_at. Once its prediction is stored it joins that
 *   prediction's window like any other outcome.
 * WindowAccounting gives each of these counts, so every stored event of the window is accounted for.
 *
 * Five queries share the window's tables (windowTables): its predictions, each prediction_id's
 * first copy, and the latest outcome of each. Looking up prediction ids reads the model's
 * prediction_id column before the window's end and the model's outcomes, with sets the size of the
 * window in ClickHouse. Grouping happens there; what comes back is one row per non-empty cell:
 * 1. numeric cells: one row per value and sketch it feeds, grouped by (feature, kind, index):
 *    reference bin, grid cell, missing, out of range, and for the score its score bin;
 * 2. categorical cells: grouped by (feature, category), missing being the NULL category;
 * 3. score-label cells: the labelled predictions once for the whole population and once per
 *    segment attribute, grouped by (segment, group, kind, bin), kind being a score bin or the
 *    sketch's total, which carries the exact sums (squared scores, positive scores, log loss);
 * 4. the accounting: one row of counts, with the exact quantiles of the scored outcomes' delays
 *    (observed_at − occurred_at of the prediction, quantileExactInclusive: linear interpolation
 *    between order statistics, numpy's default);
 * 5. predictions per group of each segment attribute, missing being MISSING_GROUP, for the volume rows.
 *
 * Cells are computed in SQL with the core's formulas on the same IEEE doubles, so each value lands
 * in the same cell bit for bit: the reference bin is the number of inner edges strictly below the
 * value (bins are right-closed, a value on an edge falls in the bin below, as in
 * NumericFeatureSketch.add); the grid cell is floor((value − origin) / width) clamped as in
 * ValueGridSketch; the score bin is min(resolution − 1, floor(score · resolution)) as in scoreBin.
 * Edges, grid origins and widths, reference ranges and the log-loss clip travel as query parameters
 * holding each double's 64 bits, decoded with reinterpretAsFloat64: exact for every double,
 * including an empty reference's infinite range and integers beyond 2^53, which chDB's parameter
 * binder refuses as numbers. Counts, minima and maxima are exact; sums are sumKahan's, compensated,
 * so they are within about an ulp of the exact sum whatever order ClickHouse adds in, and differ
 * from the core's left-to-right sums only by the core's own rounding.
 */

export interface EventWindow {
  modelId: string;
  /** Inclusive lower bound of the predictions' occurred_at, epoch milliseconds. */
  start: number;
  /** Exclusive upper bound of the predictions' occurred_at, epoch milliseconds. */
  end: number;
}

/** Where every stored event of the window went. */
export interface WindowAccounting {
  /** Predictions in the window's sketches. */
  predictions: number;
  /** Stored predictions of the window whose prediction_id an earlier stored prediction carries. */
  repeatedPredictions: number;
  /** Predictions of the window left out whole: a feature of the wrong type, or a score outside [0, 1]. */
  refusedPredictions: number;
  /** Outcomes in the window's score-label sketches: the latest outcome of a sketched prediction, binary. */
  outcomes: number;
  /** Outcomes of the window's predictions that a later outcome of the same prediction replaced. */
  supersededOutcomes: number;
  /** Latest outcomes of sketched predictions that are not a binary 0/1 label. */
  unscoredOutcomes: number;
  /** Outcomes of refused predictions. */
  outcomesOfRefusedPredictions: number;
  /** Outcomes observed in the window whose prediction is not stored. */
  outcomesWithoutPrediction: number;
}

export interface WindowCells {
  /** The window's sketches in their serialised form: WindowSketch.fromJSON(profile, sketch). */
  sketch: SerializedWindowSketch;
  accounting: WindowAccounting;
  /** Seconds from prediction to outcome over the `accounting.outcomes`; null when there are none. */
  labelDelaySeconds: WindowLabels['delaySeconds'];
  /** The window's predictions (those sketched) per group of each segment attribute. */
  segmentGroups: SegmentGroupCounts;
}

interface NumericCellRow {
  feature: number;
  kind: 'missing' | 'bin' | 'cell' | 'out_of_range' | 'score_bin';
  index: number;
  count: number | string;
  sum: number;
  minimum: number;
  maximum: number;
}

interface CategoryCellRow {
  feature: number;
  category: string | null;
  count: number | string;
}

interface ScoreLabelCellRow {
  /** 0 for the whole population, otherwise the segment attribute's position (from 1). */
  segment: number;
  segment_group: string;
  kind: 'bin' | 'total';
  bin: number;
  positives: number | string;
  negatives: number | string;
  score_sum: number;
  squared_score_sum: number;
  positive_score_sum: number;
  log_loss_sum: number;
}

type AccountingRow = Record<
  'predictions' | 'repeated_predictions' | 'refused_predictions' | 'outcomes' | 'superseded_outcomes' | 'unscored_outcomes' | 'outcomes_of_refused_predictions' | 'outcomes_without_prediction',
  number | string
> & {
  /** Median and 90th percentile; null (NaN on the server's side) without outcomes. */
  delay_quantiles: [number | null, number | null];
};

interface SegmentGroupRow {
  /** The segment attribute's position, from 1. */
  segment: number;
  segment_group: string;
  count: number | string;
}

/** Reads the cells of every sketch of one window; see the module comment for what is counted where. */
export async function readWindowCells(client: ClickHouseClient, database: string, profile: ReferenceProfile, window: EventWindow): Promise<WindowCells> {
  const numericReferences = profile.features.flatMap((feature) => (feature.type === 'numeric' ? [feature] : []));
  const numericProfiles = numericReferences.map((feature) => feature.profile);
  const parameters = {
    model: window.modelId,
    start: window.start,
    end: window.end,
    // The score column's profile is the last numeric one (fitReferenceProfile); its values are the score.
    numericFeatures: numericReferences.slice(0, -1).map((feature) => feature.name),
    categoricalFeatures: profile.features.flatMap((feature) => (feature.type === 'categorical' ? [feature.name] : [])),
    segments: [...profile.shape.segments],
    missingGroup: MISSING_GROUP,
    edges: numericProfiles.map((reference) => float64Bits([...reference.innerEdges])),
    minimums: float64Bits(numericProfiles.map((reference) => reference.minimum)),
    maximums: float64Bits(numericProfiles.map((reference) => reference.maximum)),
    origins: float64Bits(numericProfiles.map((reference) => reference.values.grid.origin)),
    widths: float64Bits(numericProfiles.map((reference) => reference.values.grid.width)),
    resolution: DEFAULT_RESOLUTION,
    largestCell: Number.MAX_SAFE_INTEGER,
    logLossClip: float64Bits([LOG_LOSS_CLIP])[0]!,
  };
  const rows = async <Row>(query: string): Promise<Row[]> => {
    const result = await client.query({ query, query_params: parameters, format: 'JSONEachRow' });
    return result.json<Row>();
  };
  const [numericRows, categoryRows, scoreLabelRows, [accountingRow], segmentGroupRows] = await Promise.all([
    rows<NumericCellRow>(numericCellsQuery(database)),
    rows<CategoryCellRow>(categoryCellsQuery(database)),
    rows<ScoreLabelCellRow>(scoreLabelCellsQuery(database)),
    rows<AccountingRow>(accountingQuery(database)),
    rows<SegmentGroupRow>(segmentGroupsQuery(database)),
  ]);
  const accounting = accountingOf(accountingRow!);
  const [median, ninetiethPercentile] = accountingRow!.delay_quantiles;
  const segmentGroups = new Map(profile.shape.segments.map((segment) => [segment, new Map<string, number>()]));
  for (const row of segmentGroupRows) segmentGroups.get(profile.shape.segments[row.segment - 1]!)!.set(row.segment_group, Number(row.count));
  return {
    sketch: serializedWindow(profile, numericRows, categoryRows, scoreLabelRows),
    accounting,
    labelDelaySeconds: accounting.outcomes > 0 && median !== null && ninetiethPercentile !== null ? { median, ninetiethPercentile } : null,
    segmentGroups,
  };
}

/** The cells in the form WindowSketch.fromJSON reads. A server quotes 64-bit counts, chDB does not. */
function serializedWindow(
  profile: ReferenceProfile,
  numericRows: readonly NumericCellRow[],
  categoryRows: readonly CategoryCellRow[],
  scoreLabelRows: readonly ScoreLabelCellRow[],
): SerializedWindowSketch {
  const numericSketches = profile.features.flatMap((feature) => (feature.type === 'numeric' ? [emptyNumericSketch(feature.profile)] : []));
  const scores: SerializedScoreSketch = { resolution: DEFAULT_RESOLUTION, bins: [] };
  for (const row of numericRows) {
    const sketch = numericSketches[row.feature - 1]!;
    const count = Number(row.count);
    if (row.kind === 'missing') sketch.missingCount = count;
    else if (row.kind === 'out_of_range') sketch.outOfRangeCount = count;
    else if (row.kind === 'bin') sketch.counts[row.index] = count;
    else if (row.kind === 'cell') sketch.values.cells.push([row.index, count, row.sum, row.minimum, row.maximum]);
    else scores.bins.push([row.index, count, row.sum]);
  }
  const categorySketches = profile.features.flatMap((feature) => (feature.type === 'categorical' ? [{ counts: {} as Record<string, number>, totalCount: 0, missingCount: 0 }] : []));
  for (const row of categoryRows) {
    const sketch = categorySketches[row.feature - 1]!;
    const count = Number(row.count);
    sketch.totalCount += count;
    if (row.category === null) sketch.missingCount = count;
    else sketch.counts[row.category] = count;
  }
  const features: SerializedWindowSketch['features'] = {};
  let numericPosition = 0;
  let categoricalPosition = 0;
  for (const feature of profile.features) {
    features[feature.name] = feature.type === 'numeric' ? numericSketches[numericPosition++]! : categorySketches[categoricalPosition++]!;
  }

  // Position 0 is the whole population, position i the i-th segment attribute.
  const scoreLabelSketches = [null, ...profile.shape.segments].map(() => new Map<string, SerializedScoreLabelSketch>());
  for (const row of scoreLabelRows) {
    const bySegment = scoreLabelSketches[row.segment]!;
    let sketch = bySegment.get(row.segment_group);
    if (sketch === undefined) {
      sketch = emptyScoreLabelSketch();
      bySegment.set(row.segment_group, sketch);
    }
    if (row.kind === 'bin') sketch.bins.push([row.bin, Number(row.positives), Number(row.negatives), row.score_sum]);
    else {
      sketch.squaredScoreSum = row.squared_score_sum;
      sketch.positiveScoreSum = row.positive_score_sum;
      sketch.logLossSum = row.log_loss_sum;
    }
  }
  const groups: SerializedWindowSketch['groups'] = {};
  profile.shape.segments.forEach((segment, index) => (groups[segment] = Object.fromEntries(scoreLabelSketches[index + 1]!)));
  return { version: 1, features, scores, labelled: scoreLabelSketches[0]!.get('') ?? emptyScoreLabelSketch(), groups };
}

function accountingOf(row: AccountingRow): WindowAccounting {
  return {
    predictions: Number(row.predictions),
    repeatedPredictions: Number(row.repeated_predictions),
    refusedPredictions: Number(row.refused_predictions),
    outcomes: Number(row.outcomes),
    supersededOutcomes: Number(row.superseded_outcomes),
    unscoredOutcomes: Number(row.unscored_outcomes),
    outcomesOfRefusedPredictions: Number(row.outcomes_of_refused_predictions),
    outcomesWithoutPrediction: Number(row.outcomes_without_prediction),
  };
}

/** Each double as the unsigned integer of its 64 bits, for reinterpretAsFloat64 on the other side. */
function float64Bits(values: readonly number[]): bigint[] {
  const view = new DataView(new ArrayBuffer(8));
  return values.map((value) => {
    view.setFloat64(0, value, true);
    return view.getBigUint64(0, true);
  });
}

function emptyNumericSketch(reference: NumericReferenceProfile): SerializedNumericFeatureSketch {
  return { counts: new Array<number>(reference.innerEdges.length + 1).fill(0), missingCount: 0, outOfRangeCount: 0, values: { grid: { ...reference.values.grid }, cells: [] } };
}

function emptyScoreLabelSketch(): SerializedScoreLabelSketch {
  return { resolution: DEFAULT_RESOLUTION, bins: [], squaredScoreSum: 0, positiveScoreSum: 0, logLossSum: 0 };
}

const windowBounds = (column: string): string =>
  `${column} >= fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({end:Int64}, 'UTC')`;

/**
 * The window's predictions, each prediction_id once (window_first_copies, with its `refused` flag),
 * and the latest outcome of each (latest_outcomes, with how many outcomes it has; `latest` holds
 * its label kind, value and observed_at). Query parameters: model, start, end (epoch ms),
 * numericFeatures and categoricalFeatures (the spec's names, the score column left out).
 */
export function windowTables(database: string): string {
  return `
    window_predictions AS (
      SELECT event_id, prediction_id, occurred_at, score, features_numeric, features_text, features_boolean, segments
      FROM ${database}.predictions
      WHERE model_id = {model:String} AND ${windowBounds('occurred_at')}
    ),
    first_copies AS (
      SELECT prediction_id, min((occurred_at, event_id)) AS first_copy
      FROM ${database}.predictions
      WHERE model_id = {model:String}
        AND occurred_at < fromUnixTimestamp64Milli({end:Int64}, 'UTC')
        AND prediction_id IN (SELECT prediction_id FROM window_predictions)
      GROUP BY prediction_id
    ),
    window_first_copies AS (
      SELECT
        prediction.prediction_id AS prediction_id, prediction.occurred_at AS occurred_at, score, features_numeric, features_text, features_boolean, segments,
        NOT (score >= 0 AND score <= 1)
          OR arrayExists(name -> mapContains(features_text, name) OR mapContains(features_boolean, name), {numericFeatures:Array(String)})
          OR arrayExists(name -> mapContains(features_numeric, name), {categoricalFeatures:Array(String)}) AS refused
      FROM window_predictions AS prediction
      INNER JOIN first_copies ON prediction.prediction_id = first_copies.prediction_id
      WHERE (prediction.occurred_at, prediction.event_id) = first_copies.first_copy
    ),
    sketched_predictions AS (
      SELECT * FROM window_first_copies WHERE NOT refused
    ),
    latest_outcomes AS (
      SELECT prediction_id, count() AS outcome_count, argMax((label_kind, label_value, observed_at), (observed_at, event_id)) AS latest
      FROM ${database}.outcomes
      WHERE model_id = {model:String} AND prediction_id IN (SELECT prediction_id FROM window_first_copies)
      GROUP BY prediction_id
    )`;
}

const scoreBin = (score: string): string => `least({resolution:Float64} - 1, floor(${score} * {resolution:Float64}))`;

function numericCellsQuery(database: string): string {
  return `
    WITH ${windowTables(database)},
    arrayMap(feature -> arrayMap(bits -> reinterpretAsFloat64(bits), feature), {edges:Array(Array(UInt64))}) AS edges,
    arrayMap(bits -> reinterpretAsFloat64(bits), {minimums:Array(UInt64)}) AS minimums,
    arrayMap(bits -> reinterpretAsFloat64(bits), {maximums:Array(UInt64)}) AS maximums,
    arrayMap(bits -> reinterpretAsFloat64(bits), {origins:Array(UInt64)}) AS origins,
    arrayMap(bits -> reinterpretAsFloat64(bits), {widths:Array(UInt64)}) AS widths
    SELECT feature, cell.1 AS kind, cell.2 AS index, count() AS count, sumKahan(value) AS sum, min(value) AS minimum, max(value) AS maximum
    FROM (
      SELECT
        feature, value, is_present, feature = length(values) AS is_score,
        arrayCount(edge -> edge < value, edges[feature]) AS bin,
        floor((value - origins[feature]) / widths[feature]) AS unclamped_cell,
        if(isFinite(unclamped_cell), greatest(-{largestCell:Float64}, least({largestCell:Float64}, unclamped_cell)), sign(unclamped_cell) * {largestCell:Float64}) AS grid_cell,
        value < minimums[feature] OR value > maximums[feature] AS out_of_range
      FROM (
        SELECT
          arrayPushBack(arrayMap(name -> features_numeric[name], {numericFeatures:Array(String)}), score) AS values,
          arrayPushBack(arrayMap(name -> mapContains(features_numeric, name), {numericFeatures:Array(String)}), true) AS present
        FROM sketched_predictions
      )
      ARRAY JOIN arrayEnumerate(values) AS feature, values AS value, present AS is_present
    )
    ARRAY JOIN if(
      NOT is_present,
      [('missing', 0.)],
      arrayConcat(
        [('bin', toFloat64(bin)), ('cell', grid_cell)],
        if(out_of_range, [('out_of_range', 0.)], []),
        if(is_score, [('score_bin', ${scoreBin('value')})], []))
    ) AS cell
    GROUP BY feature, kind, index`;
}

function categoryCellsQuery(database: string): string {
  return `
    WITH ${windowTables(database)}
    SELECT feature, category, count() AS count
    FROM (
      SELECT arrayMap(
        name -> if(mapContains(features_text, name), toNullable(features_text[name]),
                if(mapContains(features_boolean, name), toNullable(toString(features_boolean[name])), NULL)),
        {categoricalFeatures:Array(String)}) AS categories
      FROM sketched_predictions
    )
    ARRAY JOIN arrayEnumerate(categories) AS feature, categories AS category
    GROUP BY feature, category`;
}

function scoreLabelCellsQuery(database: string): string {
  return `
    WITH ${windowTables(database)}
    SELECT
      sketch.1 AS segment, sketch.2 AS segment_group, cell.1 AS kind, cell.2 AS bin,
      countIf(label = 1) AS positives, countIf(label = 0) AS negatives, sumKahan(score) AS score_sum,
      sumKahan(score * score) AS squared_score_sum, sumKahanIf(score, label = 1) AS positive_score_sum, sumKahan(log_loss) AS log_loss_sum
    FROM (
      SELECT
        prediction.score AS score, prediction.segments AS segments, toUInt8(outcome.latest.2) AS label,
        least(greatest(score, reinterpretAsFloat64({logLossClip:UInt64})), 1 - reinterpretAsFloat64({logLossClip:UInt64})) AS clipped,
        if(label = 1, -log(clipped), -log1p(-clipped)) AS log_loss
      FROM sketched_predictions AS prediction
      INNER JOIN latest_outcomes AS outcome ON prediction.prediction_id = outcome.prediction_id
      WHERE outcome.latest.1 = 'binary' AND outcome.latest.2 IN (0, 1)
    )
    ARRAY JOIN arrayConcat(
      [(toUInt32(0), '')],
      arrayMap(
        (name, position) -> (position, if(mapContains(segments, name), segments[name], {missingGroup:String})),
        {segments:Array(String)}, arrayEnumerate({segments:Array(String)}))
    ) AS sketch
    ARRAY JOIN [('bin', ${scoreBin('score')}), ('total', 0.)] AS cell
    GROUP BY segment, segment_group, kind, bin`;
}

function accountingQuery(database: string): string {
  return `
    WITH ${windowTables(database)},
    observed_in_window AS (
      SELECT prediction_id FROM ${database}.outcomes WHERE model_id = {model:String} AND ${windowBounds('observed_at')}
    )
    SELECT
      predictions, stored_predictions - first_copies AS repeated_predictions, refused_predictions,
      outcomes, superseded_outcomes, unscored_outcomes, outcomes_of_refused_predictions, outcomes_without_prediction, delay_quantiles
    FROM (SELECT count() AS stored_predictions FROM window_predictions) AS stored
    CROSS JOIN (
      SELECT count() AS first_copies, countIf(NOT refused) AS predictions, countIf(refused) AS refused_predictions
      FROM window_first_copies
    ) AS first_copy_counts
    CROSS JOIN (
      SELECT
        countIf(NOT refused AND scored) AS outcomes,
        sumIf(outcome_count - 1, NOT refused) AS superseded_outcomes,
        countIf(NOT refused AND NOT scored) AS unscored_outcomes,
        sumIf(outcome_count, refused) AS outcomes_of_refused_predictions,
        quantilesExactInclusiveIf(0.5, 0.9)(delay_seconds, NOT refused AND scored) AS delay_quantiles
      FROM (
        SELECT
          refused, outcome_count, latest.1 = 'binary' AND latest.2 IN (0, 1) AS scored,
          (toUnixTimestamp64Milli(latest.3) - toUnixTimestamp64Milli(prediction.occurred_at)) / 1000 AS delay_seconds
        FROM window_first_copies AS prediction
        INNER JOIN latest_outcomes AS outcome ON prediction.prediction_id = outcome.prediction_id
      )
    ) AS outcome_counts
    CROSS JOIN (
      SELECT count() AS outcomes_without_prediction
      FROM observed_in_window
      WHERE prediction_id NOT IN (
        SELECT prediction_id FROM ${database}.predictions
        WHERE model_id = {model:String} AND prediction_id IN (SELECT prediction_id FROM observed_in_window))
    ) AS unmatched_counts`;
}

function segmentGroupsQuery(database: string): string {
  return `
    WITH ${windowTables(database)}
    SELECT segment, segment_group, count() AS count
    FROM sketched_predictions
    ARRAY JOIN
      arrayEnumerate({segments:Array(String)}) AS segment,
      arrayMap(name -> if(mapContains(segments, name), segments[name], {missingGroup:String}), {segments:Array(String)}) AS segment_group
    GROUP BY segment, segment_group`;
}
