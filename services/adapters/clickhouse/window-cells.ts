import type { ClickHouseClient } from '@clickhouse/client';
import { MISSING_GROUP } from '../../core/metrics/fairness/group-fairness.js';
import { LOG_LOSS_CLIP } from '../../core/metrics/performance/binary-classification.js';
import type { NumericReferenceProfile, SerializedNumericFeatureSketch } from '../../core/metrics/sketches/numeric-feature-sketch.js';
import { DEFAULT_RESOLUTION, type SerializedScoreLabelSketch } from '../../core/metrics/sketches/score-label-sketch.js';
import type { ReferenceProfile, SerializedWindowSketch } from '../../core/metrics/sketches/window-sketch.js';
import { CompensatedSum } from '../../core/metrics/statistics/compensated-sum.js';
import { BUCKET_BITS, type SerializedLabelDelaySketch } from '../../core/metrics/sketches/label-delay-sketch.js';
import type { WindowAccounting, WindowCells } from '../../core/monitoring/window-parts.js';

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
 * One query does it all. Its `window_rows` are the window's stored predictions, each once, with
 * its repeated and refused flags, its latest outcome (how many it has, the winner's label as a
 * status code and its delay) and its values taken out of the maps: each feature's value by
 * position (the keys mapped to positions once per entry with transform(), not looked up by name),
 * each category and segment group. They are computed once and kept for the query
 * (`AS MATERIALIZED`, ClickHouse 26.3 and later, enabled by the query's own SETTINGS), since every
 * kind of cell reads them; the lookups of prediction ids (the model's copies of each, its
 * outcomes) happen once. Ordering by (time, id) is done on one string, the time's 8 bytes in
 * big-endian order with the sign bit flipped and then the id, which compares as the pair does and
 * is much cheaper for argMax and min than a tuple. From these rows, branches of a UNION ALL
 * aggregate one kind of cell each and return one row per feature, segment group or category,
 * with the non-empty cells as arrays:
 * 1. numeric features, in two scans of all features: each value's reference bin, its grid cell
 *    (count, sum, minimum and maximum) and whether it is out of range, and missing values. Grid
 *    cells are counted with -Resample over a dense range around the reference's cells (twice the
 *    reference's span, at most DENSE_CELLS cells), which needs no hashing; values beyond it come
 *    back as (cell, value) pairs, at most `outsideValuesPerFeature` of each feature, and are
 *    grouped here (with a compensated sum); a feature with more takes one more query that groups
 *    them in ClickHouse;
 * 2. per segment attribute and group, and once for the whole population, the labelled
 *    predictions in score bins (positives, negatives, sum of scores, by -Resample) and their exact
 *    sums (squared scores, positive scores, log loss), and the count of all predictions for the
 *    volume rows; the population's row also carries the score sketch of all predictions, the
 *    accounting and the scored outcomes' delays (observed_at − occurred_at of the prediction, in
 *    milliseconds) in the buckets of LabelDelaySketch: count, minimum and maximum per bucket;
 * 3. per categorical feature, the count of each category, missing being the NULL category;
 * 4. the outcomes observed in the window whose prediction is not stored.
 * A ClickHouse server without materialized CTEs gets the same query with the rows inlined into
 * each branch: the same results, computed again by every branch.
 *
 * Cells are computed in SQL with the core's formulas on the same IEEE doubles, so each value lands
 * in the same cell bit for bit: the reference bin is the number of inner edges strictly below the
 * value (bins are right-closed, a value on an edge falls in the bin below, as in
 * NumericFeatureSketch.add); the grid cell is floor((value − origin) / width) clamped as in
 * ValueGridSketch; the score bin is min(resolution − 1, floor(score · resolution)) as in scoreBin.
 * Edges, grid origins and widths, reference ranges and the log-loss clip are written into the
 * query as the unsigned integer of each double's 64 bits, decoded with reinterpretAsFloat64:
 * exact for every double, including an empty reference's infinite range. Counts, minima and
 * maxima are exact; sums are sumKahan's, compensated, so they are within about an ulp of the
 * exact sum whatever order ClickHouse adds in, and differ from the core's left-to-right sums only
 * by the core's own rounding. The sums of cells beyond the dense range are added here with
 * CompensatedSum (Neumaier's), within about an ulp as well.
 */

export interface EventWindow {
  modelId: string;
  /** Inclusive lower bound of the predictions' occurred_at, epoch milliseconds. */
  start: number;
  /** Exclusive upper bound of the predictions' occurred_at, epoch milliseconds. */
  end: number;
}

export interface WindowCellsOptions {
  /**
   * Values of one numeric feature beyond its dense cell range that come back as they are; a feature
   * with more has them grouped by one more query. Bounds what one window's answer holds.
   */
  outsideValuesPerFeature?: number;
  /** Whether the window's rows are kept for the query (AS MATERIALIZED); by default, when the server can. */
  materializeWindowRows?: boolean;
  /**
   * The predictions the window is expected to hold (the monitor's window summaries count them): a
   * window of fewer than ARRAY_FORM_BELOW has its numeric cells computed in array form, quicker to
   * plan, a larger one as columns, quicker to run. Unknown, as columns.
   */
  expectedPredictions?: number;
  /** The form of the numeric cells, whatever the window's size (tests hold the two to each other). */
  numericCells?: NumericCellsForm;
}

/** How the query computes the numeric features' cells: as a column per feature, or in arrays over the features. */
export type NumericCellsForm = 'columns' | 'arrays';

/**
 * Below this many predictions the array form is the quicker: it plans about 0.17 s faster, and runs
 * about 0.6 ms per thousand predictions slower (measured on 2 cores with 17 numeric columns).
 */
const ARRAY_FORM_BELOW = 200_000;

const OUTSIDE_VALUES_PER_FEATURE = 100_000;
/** The most grid cells of one feature counted in a dense range: 16,384 cells of 56 bytes of state. */
const DENSE_CELLS = 16_384;
/** Numeric features are aggregated in this many scans, which ClickHouse runs side by side. */
const NUMERIC_SCANS = 2;
const LARGEST_CELL = Number.MAX_SAFE_INTEGER;
/** Added to an outcome's epoch milliseconds so that the packed outcome stays positive for any DateTime64(3). */
const OUTCOME_TIME_OFFSET = 2 ** 50;

/** The LabelDelaySketch bucket of window_rows' delay_ms, as delayBucket computes it: the top bits of |delay| as a double, negated below zero. */
const delayBucket = `if(delay_ms < 0, -toInt64(bitShiftRight(reinterpretAsUInt64(toFloat64(-delay_ms)), ${64 - BUCKET_BITS})) - 1, toInt64(bitShiftRight(reinterpretAsUInt64(toFloat64(delay_ms)), ${64 - BUCKET_BITS})))`;

/**
 * One row of the answer. Every branch returns these columns; which ones a row fills depends on its
 * kind (see the branches in windowCellsQuery). A server quotes 64-bit integers, chDB does not.
 */
type CellRow = [
  kind: 'numeric' | 'outside' | 'segment' | 'category' | 'unmatched',
  position: number,
  name: string | null,
  tallies: (number | string)[],
  totals: (number | null)[],
  indices: (number | string)[],
  counts: (number | string)[],
  otherCounts: (number | string)[],
  sums: number[],
  minima: number[],
  maxima: number[],
  extraIndices: (number | string)[],
  extraCounts: (number | string)[],
  extraValues: number[],
  delayBuckets: (number | string)[],
  delayCounts: (number | string)[],
  delayMinima: (number | string)[],
  delayMaxima: (number | string)[],
];

const COLUMNS: readonly (readonly [name: string, type: string, empty: string])[] = [
  ['kind', 'String', "''"],
  ['position', 'UInt16', '0'],
  ['name', 'Nullable(String)', 'NULL'],
  ['tallies', 'Array(UInt64)', '[]'],
  ['totals', 'Array(Float64)', '[]'],
  ['indices', 'Array(Int64)', '[]'],
  ['counts', 'Array(UInt64)', '[]'],
  ['other_counts', 'Array(UInt64)', '[]'],
  ['sums', 'Array(Float64)', '[]'],
  ['minima', 'Array(Float64)', '[]'],
  ['maxima', 'Array(Float64)', '[]'],
  ['extra_indices', 'Array(Int64)', '[]'],
  ['extra_counts', 'Array(UInt64)', '[]'],
  ['extra_values', 'Array(Float64)', '[]'],
  ['delay_buckets', 'Array(Int64)', '[]'],
  ['delay_counts', 'Array(UInt64)', '[]'],
  ['delay_minima', 'Array(Int64)', '[]'],
  ['delay_maxima', 'Array(Int64)', '[]'],
];

/** Reads the cells of every sketch of one window; see the module comment for what is counted where. */
export async function readWindowCells(
  client: ClickHouseClient,
  database: string,
  profile: ReferenceProfile,
  window: EventWindow,
  options: WindowCellsOptions = {},
): Promise<WindowCells> {
  const outsideValues = options.outsideValuesPerFeature ?? OUTSIDE_VALUES_PER_FEATURE;
  if (!Number.isSafeInteger(outsideValues) || outsideValues < 1) throw new RangeError(`outsideValuesPerFeature must be a positive integer, got ${outsideValues}`);
  const parameters = {
    model: window.modelId,
    start: window.start,
    end: window.end,
    // The score column's profile is the last numeric one (fitReferenceProfile); its values are the score.
    numericFeatures: numericFeaturesOf(profile).slice(0, -1).map((feature) => feature.name),
    categoricalFeatures: profile.features.flatMap((feature) => (feature.type === 'categorical' ? [feature.name] : [])),
    segments: [...profile.shape.segments],
    missingGroup: MISSING_GROUP,
  };
  const rows = async (query: (materialized: boolean) => string): Promise<CellRow[]> => {
    const run = async (materialized: boolean) => (await client.query({ query: query(materialized), query_params: parameters, format: 'JSONCompactEachRow' })).json<CellRow>();
    const materialized = options.materializeWindowRows ?? !serversWithoutMaterializedCtes.has(client);
    if (!materialized) return run(false);
    try {
      return await run(true);
    } catch (error) {
      // A server before 26.3 knows neither the setting nor the keyword: the rows are inlined from then on.
      if (options.materializeWindowRows !== undefined || !isUnknownSettingOrSyntax(error)) throw error;
      serversWithoutMaterializedCtes.add(client);
      return run(false);
    }
  };
  const numericCells = options.numericCells ?? (options.expectedPredictions !== undefined && options.expectedPredictions < ARRAY_FORM_BELOW ? 'arrays' : 'columns');
  const cellRows = await rows((materialized) => windowCellsQuery(database, profile, { materialized, outsideValues, numericCells }));
  const overflowing = cellRows.flatMap((row) => (row[0] === 'numeric' && Number(row[3][2]) > row[13].length ? [row[1]] : []));
  const outsideRows = overflowing.length > 0 ? await rows((materialized) => outsideCellsQuery(database, profile, overflowing, materialized)) : [];
  return assembleCells(profile, cellRows, outsideRows);
}

/** Clients whose ClickHouse refused a materialized CTE: one that predates them (26.3). */
const serversWithoutMaterializedCtes = new WeakSet<ClickHouseClient>();

const isUnknownSettingOrSyntax = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  // UNKNOWN_SETTING and SYNTAX_ERROR.
  return code === '115' || code === '62';
};

// ---------------------------------------------------------------------------------------------
// The query.

const numericFeaturesOf = (profile: ReferenceProfile) => profile.features.flatMap((feature) => (feature.type === 'numeric' ? [feature] : []));
type NumericFeature = ReturnType<typeof numericFeaturesOf>[number];

/** The elements of an array where `kept`, the row's mask of non-empty cells, holds. */
const kept = (array: string): string => `arrayFilter((value, kept) -> kept, ${array}, kept)`;

/** A double written exactly: the unsigned integer of its 64 bits, decoded by ClickHouse. */
function double(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  return `reinterpretAsFloat64(toUInt64(${view.getBigUint64(0, true)}))`;
}

/** (time, id) as one string that orders as the pair does: the time's milliseconds big-endian, sign bit flipped, then the id. */
const orderKey = (time: string, id: string): string => `concat(reverse(reinterpretAsString(bitXor(toUnixTimestamp64Milli(${time}), -9223372036854775808))), ${id})`;

const windowBounds = (column: string): string =>
  `${column} >= fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({end:Int64}, 'UTC')`;

/** The grid cell of a value, as ValueGridSketch computes it. */
function cellOf(value: number, grid: { origin: number; width: number }): number {
  const index = Math.floor((value - grid.origin) / grid.width);
  return Math.max(-LARGEST_CELL, Math.min(LARGEST_CELL, Number.isFinite(index) ? index : Math.sign(index) * LARGEST_CELL));
}

/**
 * The cells of a feature counted densely, [low, low + length): the reference's cells and half their
 * span again on each side, at most DENSE_CELLS around their middle. A reference without values
 * gets the cells around its grid's origin.
 */
function denseCellRange(reference: NumericReferenceProfile): { low: number; length: number } {
  if (!(reference.minimum <= reference.maximum)) return { low: -64, length: 128 };
  const low = cellOf(reference.minimum, reference.values.grid);
  const high = cellOf(reference.maximum, reference.values.grid);
  const span = high - low + 1;
  const range = span * 2 >= DENSE_CELLS ? { low: Math.floor(low / 2 + high / 2) - DENSE_CELLS / 2, length: DENSE_CELLS } : { low: low - Math.ceil(span / 2), length: span * 2 };
  // Far from 2^53, so that every bound is an exact integer on both sides.
  return { low: Math.max(-(2 ** 52), Math.min(2 ** 52, range.low)), length: range.length };
}

/**
 * The grid cell of an unclamped floor((value − origin) / width), clamped as ValueGridSketch clamps
 * it: an infinite quotient (a value far beyond a very narrow grid) goes to the outermost cell of its
 * side, as it does there.
 */
const clampedCell = (unclamped: string): string => `toInt64(greatest(-${LARGEST_CELL}., least(${LARGEST_CELL}., ${unclamped})))`;

/** A SELECT list with every column of CellRow, those not given empty. */
function cellColumns(values: Partial<Record<string, string>>): string {
  return COLUMNS.map(([name, type, empty]) => `CAST(${values[name] ?? empty} AS ${type}) AS ${name}`).join(',\n      ');
}

/** The expressions of one numeric feature over window_rows: its value, presence, bin, cell and range test. */
function numericTerms(reference: NumericReferenceProfile, position: number, isScore: boolean) {
  const column = isScore ? 'score' : `value_${position}`;
  const value = isScore ? 'score' : `assumeNotNull(${column})`;
  const unclamped = `floor((${value} - ${double(reference.values.grid.origin)}) / ${double(reference.values.grid.width)})`;
  return {
    value,
    // Sketched and present: the rows whose value the feature's sketch takes.
    taken: isScore ? 'sketched' : `sketched AND ${column} IS NOT NULL`,
    missing: isScore ? '0' : `sketched AND ${column} IS NULL`,
    bin: reference.innerEdges.length === 0 ? '0' : Array.from(reference.innerEdges, (edge) => `(${value} > ${double(edge)})`).join(' + '),
    cell: clampedCell(unclamped),
    outOfRange: `${value} < ${double(reference.minimum)} OR ${value} > ${double(reference.maximum)}`,
  };
}

/**
 * The window's rows, each stored prediction of the window once (see the module comment), and the
 * lookups they need. Query parameters: model, start, end (epoch ms), numericFeatures and
 * categoricalFeatures (the spec's names, the score column left out), segments and missingGroup.
 */
function windowRows(database: string, profile: ReferenceProfile, materialized: boolean): string {
  const numericCount = numericFeaturesOf(profile).length - 1;
  const categoricalCount = profile.features.length - numericCount - 1;
  const clip = double(LOG_LOSS_CLIP);
  // [name, expression] of each value taken out of the maps.
  const extracted: [string, string][] = [
    ...Array.from({ length: numericCount }, (_, index): [string, string] => {
      const position = `indexOf(feature_of_entry, ${index + 1})`;
      return [`value_${index + 1}`, `if(${position} > 0, toNullable(numeric_values[${position}]), NULL)`];
    }),
    ...Array.from({ length: categoricalCount }, (_, index): [string, string] => {
      const name = `{categoricalFeatures:Array(String)}[${index + 1}]`;
      return [
        `category_${index + 1}`,
        `if(mapContains(features_text, ${name}), toNullable(features_text[${name}]), if(mapContains(features_boolean, ${name}), toNullable(toString(features_boolean[${name}])), NULL))`,
      ];
    }),
    ...profile.shape.segments.map((_, index): [string, string] => {
      const name = `{segments:Array(String)}[${index + 1}]`;
      return [`group_${index + 1}`, `if(mapContains(segments, ${name}), segments[${name}], {missingGroup:String})`];
    }),
  ];
  // A key's position among the names, 0 for none: one transform() per map entry.
  const positionOf = (key: string, names: string) => `transform(${key}, ${names}, arrayEnumerate(${names}), 0)`;
  const numericNames = '{numericFeatures:Array(String)}';
  const categoricalNames = '{categoricalFeatures:Array(String)}';
  const anyKeyOf = (keys: string, names: string, count: number) => (count === 0 ? 'false' : `arrayExists(key -> ${positionOf('key', names)} > 0, ${keys})`);
  return `
    window_ids AS (
      SELECT prediction_id FROM ${database}.predictions WHERE model_id = {model:String} AND ${windowBounds('occurred_at')}
    ),
    -- Prediction ids that more than one stored prediction carries (few, usually none), and the
    -- earliest copy of each. Hashes of the ids find the candidates, grouped as integers, far cheaper
    -- than grouping every id as a string; the copies of a candidate are then counted by its id, so
    -- an id whose hash another id shares has one copy and is not repeated.
    repeated_hashes AS (
      SELECT cityHash64(prediction_id) AS id_hash FROM ${database}.predictions
      WHERE model_id = {model:String} AND occurred_at < fromUnixTimestamp64Milli({end:Int64}, 'UTC')
      GROUP BY id_hash HAVING count() > 1
    ),
    first_copies AS (
      SELECT prediction_id, min(${orderKey('occurred_at', 'event_id')}) AS first_copy, count() AS copies
      FROM ${database}.predictions
      WHERE model_id = {model:String} AND occurred_at < fromUnixTimestamp64Milli({end:Int64}, 'UTC') AND cityHash64(prediction_id) IN repeated_hashes
      GROUP BY prediction_id
    ),
    -- Per prediction id: its outcomes, and the latest packed as
    -- (observed_at ms + OUTCOME_TIME_OFFSET) * 4 + status, status 1 unscored, 2 label 0, 3 label 1.
    latest_outcomes AS (
      SELECT prediction_id, count() AS outcome_count,
        argMax((toUnixTimestamp64Milli(observed_at) + ${OUTCOME_TIME_OFFSET}) * 4
               + multiIf(label_kind = 'binary' AND label_value = 0, 2, label_kind = 'binary' AND label_value = 1, 3, 1),
               ${orderKey('observed_at', 'event_id')}) AS latest
      FROM ${database}.outcomes
      WHERE model_id = {model:String} AND prediction_id IN window_ids
      GROUP BY prediction_id
    ),
    window_rows AS ${materialized ? 'MATERIALIZED ' : ''}(
      SELECT
        copy.copies > 1 AND ${orderKey('prediction.occurred_at', 'prediction.event_id')} != copy.first_copy AS is_repeated,
        refused, NOT is_repeated AND NOT refused AS sketched,
        toUInt64(outcome.outcome_count) AS outcome_count,
        toUInt8(outcome.latest % 4) AS status,
        if(status >= 2, toInt64(intDiv(outcome.latest, 4) - ${OUTCOME_TIME_OFFSET}) - toUnixTimestamp64Milli(prediction.occurred_at), 0) AS delay_ms,
        score,
        toUInt16(least(${DEFAULT_RESOLUTION - 1}, floor(score * ${DEFAULT_RESOLUTION}))) AS score_bin,
        multiIf(status = 3, -log(least(greatest(score, ${clip}), 1 - ${clip})), status = 2, -log1p(-least(greatest(score, ${clip}), 1 - ${clip})), 0.) AS log_loss
        ${extracted.map(([name]) => `, ${name}`).join('')}
      FROM (
        -- The values are taken out of the maps before the joins, which then carry them instead of the maps.
        SELECT
          prediction_id, event_id, occurred_at, score,
          NOT (score >= 0 AND score <= 1)
            OR ${anyKeyOf('arrayConcat(features_text.keys, features_boolean.keys)', numericNames, numericCount)}
            OR ${anyKeyOf('features_numeric.keys', categoricalNames, categoricalCount)} AS refused
          ${extracted.map(([name, expression]) => `,\n          ${expression} AS ${name}`).join('')}
        FROM (
          SELECT
            prediction_id, event_id, occurred_at, score, segments, features_text, features_boolean, features_numeric,
            ${numericCount === 0 ? 'CAST([] AS Array(UInt16))' : `arrayMap(key -> toUInt16(${positionOf('key', numericNames)}), features_numeric.keys)`} AS feature_of_entry,
            features_numeric.values AS numeric_values
          FROM ${database}.predictions WHERE model_id = {model:String} AND ${windowBounds('occurred_at')}
        )
      ) AS prediction
      LEFT JOIN latest_outcomes AS outcome ON prediction.prediction_id = outcome.prediction_id
      LEFT JOIN first_copies AS copy ON prediction.prediction_id = copy.prediction_id
    )`;
}

/**
 * The position (from 1) of the grouping set a row of GROUP BY GROUPING SETS ((c1), (c2), ...) belongs to:
 * grouping(c1, c2, ...) has a 0 bit, counted from the most significant of as many bits as columns,
 * for the column of the row's set.
 */
function groupingSetPosition(columns: readonly string[]): string {
  const all = 2 ** columns.length - 1;
  const masks = columns.map((_, index) => all - 2 ** (columns.length - 1 - index));
  return `toUInt16(indexOf([${masks.join(', ')}], grouping(${columns.join(', ')})))`;
}

const querySettings = (materialized: boolean): string => (materialized ? '\n    SETTINGS enable_materialized_cte = 1' : '');

/**
 * The numeric cells, feature by feature as columns: per feature its dense cells, its bins,
 * out-of-range and missing counts, and the values beyond the dense cells as (cell, value) pairs,
 * in NUMERIC_SCANS scans. Quickest to run on many rows; its text, and so its planning, grows
 * with the number of features.
 */
function numericColumnsBranches(numeric: readonly NumericFeature[], outsideValues: number): string[] {
  const branches: string[] = [];
  const perFeature = numeric.map((feature, index) => {
    const p = index + 1;
    const terms = numericTerms(feature.profile, p, p === numeric.length);
    const { low, length } = denseCellRange(feature.profile);
    const outside = `taken_${p} AND (cell_${p} < ${low} OR cell_${p} >= ${low + length})`;
    return {
      // Each expression once, in the scan's projection, for the analysis of a query grows with its
      // text; and an alias used again in the same SELECT is analysed again, so what reads the cell
      // is in the aggregates, where the cell is a column.
      projections: [
        `${terms.value} AS x_${p}`,
        `${terms.taken} AS taken_${p}`,
        `${terms.cell} AS cell_${p}`,
        `${terms.bin} AS bin_${p}`,
        `${terms.taken} AND (${terms.outOfRange}) AS out_of_range_${p}`,
        `${terms.missing} AS missing_${p}`,
      ],
      aggregates: [
        `countIfResample(0, ${length}, 1)(taken_${p}, cell_${p} - ${low}) AS cell_counts_${p}`,
        `sumKahanIfResample(0, ${length}, 1)(x_${p}, taken_${p}, cell_${p} - ${low}) AS cell_sums_${p}`,
        `minIfResample(0, ${length}, 1)(x_${p}, taken_${p}, cell_${p} - ${low}) AS cell_minima_${p}`,
        `maxIfResample(0, ${length}, 1)(x_${p}, taken_${p}, cell_${p} - ${low}) AS cell_maxima_${p}`,
        `countIfResample(0, ${feature.profile.innerEdges.length + 1}, 1)(taken_${p}, bin_${p}) AS bins_${p}`,
        `[countIf(out_of_range_${p}), countIf(missing_${p}), countIf(${outside})] AS tallies_${p}`,
        `groupArrayIf(${outsideValues})((cell_${p}, x_${p}), ${outside}) AS outside_values_${p}`,
      ],
      tuple: `(${p}, ${low}, cell_counts_${p}, cell_sums_${p}, cell_minima_${p}, cell_maxima_${p}, bins_${p}, tallies_${p}, outside_values_${p})`,
    };
  });
  for (let scan = 0; scan < NUMERIC_SCANS; scan++) {
    const features = perFeature.filter((_, index) => index % NUMERIC_SCANS === scan);
    if (features.length === 0) continue;
    branches.push(`
    SELECT ${cellColumns({
      kind: "'numeric'",
      position: 'feature.1',
      tallies: 'feature.8',
      indices: kept('arrayMap(index -> feature.2 + index - 1, arrayEnumerate(feature.3))'),
      counts: kept('feature.3'),
      sums: kept('feature.4'),
      minima: kept('feature.5'),
      maxima: kept('feature.6'),
      other_counts: 'feature.7',
      extra_indices: 'arrayMap(pair -> pair.1, feature.9)',
      extra_values: 'arrayMap(pair -> pair.2, feature.9)',
    })}
    FROM (
      SELECT arrayJoin([${features.map((feature) => feature.tuple).join(', ')}]) AS feature, arrayMap(count -> count > 0, feature.3) AS kept
      FROM (
        SELECT ${features.flatMap((feature) => feature.aggregates).join(',\n          ')}
        FROM (SELECT ${features.flatMap((feature) => feature.projections).join(',\n            ')} FROM window_rows)
      )
    )`);
  }

  return branches;
}

/**
 * The numeric cells in array form, all features in one scan: element i of each array is feature i
 * (the score last), and each aggregate runs -ForEach over the features, so the query holds a
 * handful of expressions whatever the number of features and plans in about half the time; but
 * ClickHouse copies the features' constants for every row, so on many rows it runs slower than
 * the columns. Per feature: its dense cells (a common length, a feature's cells beyond its own
 * range counted as outside), its bins, out-of-range, missing and outside counts, and the values
 * beyond the dense cells as (cell, value) pairs; one row per feature comes out.
 */
function numericArraysBranch(numeric: readonly NumericFeature[], outsideValues: number): string {
    const ranges = numeric.map((feature) => denseCellRange(feature.profile));
    const cellsLength = Math.max(...ranges.map((range) => range.length));
    const edgeCount = Math.max(...numeric.map((feature) => feature.profile.innerEdges.length));
    const perFeature = (type: string, of: (feature: NumericReferenceProfile, index: number) => string) =>
      `CAST([${numeric.map((feature, index) => of(feature.profile, index)).join(', ')}] AS Array(${type}))`;
    const values = [...numeric.slice(0, -1).map((_, index) => `value_${index + 1}`), 'toNullable(score)'];
    // The k-th inner edge of every feature; +inf where a feature has fewer, which no value exceeds.
    const edges = Array.from({ length: edgeCount }, (_, k) => perFeature('Float64', (reference) => double(k < reference.innerEdges.length ? reference.innerEdges[k]! : Infinity)));
    const edgeNames = edges.map((_, k) => `edge_${k}`);
    const bin = edgeCount === 0 ? 'arrayMap(x -> toUInt16(0), x)' : `arrayMap((x, ${edgeNames.join(', ')}) -> toUInt16(${edgeNames.map((edge) => `(x > ${edge})`).join(' + ')}), x, ${edges.join(', ')})`;
    const lows = perFeature('Int64', (_, index) => String(ranges[index]!.low));
    const binCounts = perFeature('UInt32', (reference) => String(reference.innerEdges.length + 1));
    return `
    SELECT ${cellColumns({
      kind: "'numeric'",
      position: 'feature',
      tallies: 'tallies',
      indices: kept('arrayMap(index -> low + index - 1, arrayEnumerate(feature_counts))'),
      counts: kept('feature_counts'),
      sums: kept('feature_sums'),
      minima: kept('feature_minima'),
      maxima: kept('feature_maxima'),
      other_counts: 'arrayResize(feature_bins, bin_count)',
      extra_indices: 'arrayMap(pair -> pair.1, feature_outside_values)',
      extra_values: 'arrayMap(pair -> pair.2, feature_outside_values)',
    })}
    FROM (
      SELECT feature, low, bin_count, feature_counts, arrayMap(count -> count > 0, feature_counts) AS kept,
        feature_sums, feature_minima, feature_maxima, feature_bins, [feature_out_of_range, feature_missing, feature_outside] AS tallies, feature_outside_values
      FROM (
        SELECT
          countIfResampleForEach(0, ${cellsLength}, 1)(taken, dense_cell) AS cell_counts,
          sumKahanIfResampleForEach(0, ${cellsLength}, 1)(x, taken, dense_cell) AS cell_sums,
          minIfResampleForEach(0, ${cellsLength}, 1)(x, taken, dense_cell) AS cell_minima,
          maxIfResampleForEach(0, ${cellsLength}, 1)(x, taken, dense_cell) AS cell_maxima,
          countIfResampleForEach(0, ${edgeCount + 1}, 1)(taken, bin) AS bins,
          sumForEach(arrayMap((taken, x, minimum, maximum) -> toUInt64(taken AND (x < minimum OR x > maximum)), taken, x,
            ${perFeature('Float64', (reference) => double(reference.minimum))}, ${perFeature('Float64', (reference) => double(reference.maximum))})) AS out_of_range,
          sumForEach(arrayMap(value -> toUInt64(sketched AND value IS NULL), v)) AS missing,
          sumForEach(arrayMap((taken, dense) -> toUInt64(taken AND dense < 0), taken, dense_cell)) AS outside,
          groupArrayIfForEach(${outsideValues})(arrayMap((cell, x) -> (cell, x), cell, x), arrayMap((taken, dense) -> taken AND dense < 0, taken, dense_cell)) AS outside_values
        FROM (
          SELECT sketched, [${values.join(', ')}] AS v,
            arrayMap(value -> sketched AND value IS NOT NULL, v) AS taken,
            arrayMap(value -> ifNull(value, 0), v) AS x,
            arrayMap((x, origin, width) -> ${clampedCell('floor((x - origin) / width)')}, x,
              ${perFeature('Float64', (reference) => double(reference.values.grid.origin))}, ${perFeature('Float64', (reference) => double(reference.values.grid.width))}) AS cell,
            arrayMap((cell, low, length) -> if(cell >= low AND cell < low + length, cell - low, -1), cell, ${lows},
              ${perFeature('Int64', (_, index) => String(ranges[index]!.length))}) AS dense_cell,
            ${bin} AS bin
          FROM window_rows
        )
      )
      -- The arrays joined element by element, so that each feature's row holds its own cells only;
      -- resized, for over no rows at all the -ForEach states are empty arrays.
      ARRAY JOIN range(1, ${numeric.length + 1}) AS feature, ${lows} AS low, ${binCounts} AS bin_count,
        ${[
          ['cell_counts', 'feature_counts'],
          ['cell_sums', 'feature_sums'],
          ['cell_minima', 'feature_minima'],
          ['cell_maxima', 'feature_maxima'],
          ['bins', 'feature_bins'],
          ['out_of_range', 'feature_out_of_range'],
          ['missing', 'feature_missing'],
          ['outside', 'feature_outside'],
          ['outside_values', 'feature_outside_values'],
        ]
          .map(([all, one]) => `arrayResize(${all}, ${numeric.length}) AS ${one}`)
          .join(', ')}
    )`;
}


/** readWindowCells' query: window_rows, then a UNION ALL of branches that each return CellRows of one kind. */
function windowCellsQuery(database: string, profile: ReferenceProfile, options: { materialized: boolean; outsideValues: number; numericCells: NumericCellsForm }): string {
  const numeric = numericFeaturesOf(profile);
  const branches: string[] = [];

  // 1. Numeric features: as columns (quicker on many rows) or in array form (quicker to plan).
  if (numeric.length > 0) {
    if (options.numericCells === 'arrays') branches.push(numericArraysBranch(numeric, options.outsideValues));
    else branches.push(...numericColumnsBranches(numeric, options.outsideValues));
  }

  // 2. Score-label sketches: position 0 the whole population, then each segment attribute by group,
  // all attributes in one scan (GROUPING SETS). The population's scan reads every row, for the
  // accounting; the groups' only sketched ones.
  const segments = profile.shape.segments;
  const scoreLabelColumns = (scored: (condition: string) => string) => `
          countIf(${scored('status >= 2')}) AS scored,
          sumResample(0, ${DEFAULT_RESOLUTION}, 1)(toUInt64(${scored('status = 3')}), score_bin) AS positives,
          sumResample(0, ${DEFAULT_RESOLUTION}, 1)(toUInt64(${scored('status = 2')}), score_bin) AS negatives,
          sumKahanIfResample(0, ${DEFAULT_RESOLUTION}, 1)(score, ${scored('status >= 2')}, score_bin) AS labelled_sums,
          sumKahanIf(score * score, ${scored('status >= 2')}) AS squared_sum,
          sumKahanIf(score, ${scored('status = 3')}) AS positive_sum,
          sumKahanIf(log_loss, ${scored('status >= 2')}) AS log_loss_sum`;
  const scoreLabelCells = {
    kind: "'segment'",
    indices: kept(`range(0, ${DEFAULT_RESOLUTION})`),
    counts: kept('positives'),
    other_counts: kept('negatives'),
    sums: kept('labelled_sums'),
  };
  const withKept = (from: string) => `
    FROM (
      SELECT *, arrayMap((positive, negative) -> positive + negative > 0, positives, negatives) AS kept
      FROM (${from}
      )
    )`;
  branches.push(`
    SELECT ${cellColumns({
      ...scoreLabelCells,
      name: "''",
      tallies: 'arrayConcat([predictions, scored], accounting)',
      totals: '[squared_sum, positive_sum, log_loss_sum]',
      delay_buckets: 'delay_count_map.1',
      delay_counts: 'delay_count_map.2',
      delay_minima: 'delay_minimum_map.2',
      delay_maxima: 'delay_maximum_map.2',
      extra_indices: `arrayFilter((bin, count) -> count > 0, range(0, ${DEFAULT_RESOLUTION}), score_counts)`,
      extra_counts: 'arrayFilter(count -> count > 0, score_counts)',
      extra_values: 'arrayFilter((sum, count) -> count > 0, score_sums, score_counts)',
    })}${withKept(`
        SELECT
          countIf(sketched) AS predictions,${scoreLabelColumns((condition) => `sketched AND ${condition}`)},
          countIfResample(0, ${DEFAULT_RESOLUTION}, 1)(sketched, score_bin) AS score_counts,
          sumKahanIfResample(0, ${DEFAULT_RESOLUTION}, 1)(score, sketched, score_bin) AS score_sums,
          [countIf(is_repeated), countIf(NOT is_repeated AND refused), sumIf(outcome_count, NOT is_repeated AND refused),
           sumIf(outcome_count, sketched), countIf(sketched AND outcome_count > 0), countIf(sketched AND status = 1)] AS accounting,
          sumMapIf([${delayBucket}], [toUInt64(1)], sketched AND status >= 2) AS delay_count_map,
          minMapIf([${delayBucket}], [delay_ms], sketched AND status >= 2) AS delay_minimum_map,
          maxMapIf([${delayBucket}], [delay_ms], sketched AND status >= 2) AS delay_maximum_map
        FROM window_rows`)}`);
  if (segments.length > 0) {
    const groups = segments.map((_, index) => `group_${index + 1}`);
    branches.push(`
    SELECT ${cellColumns({ ...scoreLabelCells, position: 'segment', name: `[${groups.join(', ')}][segment]`, tallies: '[predictions, scored]', totals: '[squared_sum, positive_sum, log_loss_sum]' })}${withKept(`
        SELECT ${groups.join(', ')}, ${groupingSetPosition(groups)} AS segment, count() AS predictions,${scoreLabelColumns((condition) => condition)}
        FROM window_rows WHERE sketched
        GROUP BY GROUPING SETS (${groups.map((group) => `(${group})`).join(', ')})`)}`);
  }

  // 3. Categories, all features in one scan.
  const categoricalCount = profile.features.length - numeric.length;
  const categories = Array.from({ length: categoricalCount }, (_, index) => `category_${index + 1}`);
  if (categories.length > 0) {
    branches.push(`
    SELECT ${cellColumns({ kind: "'category'", position: 'feature', name: `[${categories.join(', ')}][feature]`, tallies: '[count]' })}
    FROM (
      SELECT ${categories.join(', ')}, ${groupingSetPosition(categories)} AS feature, count() AS count
      FROM window_rows WHERE sketched
      GROUP BY GROUPING SETS (${categories.map((category) => `(${category})`).join(', ')})
    )`);
  }

  // 4. Outcomes observed in the window whose prediction is not stored.
  branches.push(`
    SELECT ${cellColumns({ kind: "'unmatched'", tallies: '[count()]' })}
    FROM ${database}.outcomes
    WHERE model_id = {model:String} AND ${windowBounds('observed_at')}
      AND prediction_id NOT IN (
        SELECT prediction_id FROM ${database}.predictions
        WHERE model_id = {model:String}
          AND prediction_id IN (SELECT prediction_id FROM ${database}.outcomes WHERE model_id = {model:String} AND ${windowBounds('observed_at')}))`);

  return `
    WITH ${windowRows(database, profile, options.materialized)}
    ${branches.join('\n    UNION ALL')}${querySettings(options.materialized)}`;
}

/** The cells beyond the dense range of the given numeric features (positions from 1), grouped in ClickHouse. */
function outsideCellsQuery(database: string, profile: ReferenceProfile, positions: readonly number[], materialized: boolean): string {
  const numeric = numericFeaturesOf(profile);
  const branches = positions.map((position) => {
    const reference = numeric[position - 1]!.profile;
    const terms = numericTerms(reference, position, position === numeric.length);
    const { low, length } = denseCellRange(reference);
    return `
    SELECT ${cellColumns({
      kind: "'outside'",
      position: String(position),
      indices: 'groupArray(cell)',
      counts: 'groupArray(count)',
      sums: 'groupArray(sum)',
      minima: 'groupArray(minimum)',
      maxima: 'groupArray(maximum)',
    })}
    FROM (
      SELECT cell, count() AS count, sumKahan(value) AS sum, min(value) AS minimum, max(value) AS maximum
      FROM (SELECT ${terms.cell} AS cell, ${terms.value} AS value FROM window_rows WHERE ${terms.taken})
      WHERE cell < ${low} OR cell >= ${low + length}
      GROUP BY cell
    )`;
  });
  // Kept for the query only when several features read the rows.
  const materializedHere = materialized && positions.length > 1;
  return `
    WITH ${windowRows(database, profile, materializedHere)}
    ${branches.join('\n    UNION ALL')}${querySettings(materializedHere)}`;
}

// ---------------------------------------------------------------------------------------------
// The answer, in the form WindowSketch.fromJSON reads.

function assembleCells(profile: ReferenceProfile, rows: readonly CellRow[], outsideRows: readonly CellRow[]): WindowCells {
  const { segments } = profile.shape;
  const numeric = numericFeaturesOf(profile).map((feature) => emptyNumericSketch(feature.profile));
  const categories = profile.features.flatMap((feature) => (feature.type === 'categorical' ? [{ counts: {} as Record<string, number>, totalCount: 0, missingCount: 0 }] : []));
  // Position 0 is the whole population, position i the i-th segment attribute.
  const labelled = [null, ...segments].map(() => new Map<string, SerializedScoreLabelSketch>());
  const segmentGroups = new Map(segments.map((segment) => [segment, new Map<string, number>()]));
  const scores: SerializedWindowSketch['scores'] = { resolution: DEFAULT_RESOLUTION, bins: [] };
  const accounting: WindowAccounting = {
    predictions: 0,
    repeatedPredictions: 0,
    refusedPredictions: 0,
    outcomes: 0,
    supersededOutcomes: 0,
    unscoredOutcomes: 0,
    outcomesOfRefusedPredictions: 0,
    outcomesWithoutPrediction: 0,
  };
  const labelDelays: SerializedLabelDelaySketch = { buckets: [] };
  const grouped = new Set(outsideRows.map((row) => row[1]));

  for (const [kind, position, name, tallies, totals, indices, counts, otherCounts, sums, minima, maxima, extraIndices, extraCounts, extraValues, delayBuckets, delayCounts, delayMinima, delayMaxima] of [
    ...rows,
    ...outsideRows,
  ]) {
    if (kind === 'numeric' || kind === 'outside') {
      const sketch = numeric[position - 1]!;
      indices.forEach((index, cell) => sketch.values.cells.push([Number(index), Number(counts[cell]), sums[cell]!, minima[cell]!, maxima[cell]!]));
      if (kind === 'outside') continue;
      sketch.counts = otherCounts.map(Number);
      sketch.outOfRangeCount = Number(tallies[0]);
      sketch.missingCount = Number(tallies[1]);
      if (!grouped.has(position)) sketch.values.cells.push(...cellsOfValues(extraIndices, extraValues));
    } else if (kind === 'segment') {
      const [predictions, scored] = tallies.map(Number);
      const group = name ?? '';
      if (position > 0) segmentGroups.get(segments[position - 1]!)!.set(group, predictions!);
      if (scored! > 0) {
        labelled[position]!.set(group, {
          resolution: DEFAULT_RESOLUTION,
          bins: indices.map((bin, index) => [Number(bin), Number(counts[index]), Number(otherCounts[index]), sums[index]!]),
          squaredScoreSum: totals[0]!,
          positiveScoreSum: totals[1]!,
          logLossSum: totals[2]!,
        });
      }
      if (position === 0) {
        const [repeated, refused, outcomesOfRefused, outcomeEvents, withOutcome, unscored] = tallies.slice(2).map(Number);
        Object.assign(accounting, {
          predictions,
          repeatedPredictions: repeated,
          refusedPredictions: refused,
          outcomes: scored,
          supersededOutcomes: outcomeEvents! - withOutcome!,
          unscoredOutcomes: unscored,
          outcomesOfRefusedPredictions: outcomesOfRefused,
        });
        scores.bins = extraIndices.map((bin, index) => [Number(bin), Number(extraCounts[index]), extraValues[index]!]);
        labelDelays.buckets = delayBuckets.map((key, index) => [Number(key), Number(delayCounts[index]), Number(delayMinima[index]), Number(delayMaxima[index])]);
      }
    } else if (kind === 'category') {
      const sketch = categories[position - 1]!;
      const count = Number(tallies[0]);
      sketch.totalCount += count;
      if (name === null) sketch.missingCount = count;
      else sketch.counts[name] = count;
    } else accounting.outcomesWithoutPrediction = Number(tallies[0]);
  }

  for (const sketch of numeric) sketch.values.cells.sort((left, right) => left[0] - right[0]);
  const features: SerializedWindowSketch['features'] = {};
  let numericPosition = 0;
  let categoricalPosition = 0;
  for (const feature of profile.features) features[feature.name] = feature.type === 'numeric' ? numeric[numericPosition++]! : categories[categoricalPosition++]!;
  const groups: SerializedWindowSketch['groups'] = {};
  segments.forEach((segment, index) => (groups[segment] = Object.fromEntries(labelled[index + 1]!)));
  return {
    sketch: { version: 1, features, scores, labelled: labelled[0]!.get('') ?? emptyScoreLabelSketch(), groups },
    accounting,
    labelDelays,
    segmentGroups,
  };
}

/** Grid cells of (cell, value) pairs: count, compensated sum, minimum and maximum per cell. */
function cellsOfValues(indices: readonly (number | string)[], values: readonly number[]): SerializedNumericFeatureSketch['values']['cells'] {
  const cells = new Map<number, { count: number; sum: CompensatedSum; minimum: number; maximum: number }>();
  indices.forEach((index, position) => {
    const value = values[position]!;
    const cell = cells.get(Number(index));
    if (cell === undefined) {
      const sum = new CompensatedSum();
      sum.add(value);
      cells.set(Number(index), { count: 1, sum, minimum: value, maximum: value });
      return;
    }
    cell.count += 1;
    cell.sum.add(value);
    cell.minimum = Math.min(cell.minimum, value);
    cell.maximum = Math.max(cell.maximum, value);
  });
  return [...cells].map(([index, cell]) => [index, cell.count, cell.sum.value, cell.minimum, cell.maximum]);
}

function emptyNumericSketch(reference: NumericReferenceProfile): SerializedNumericFeatureSketch {
  return { counts: new Array<number>(reference.innerEdges.length + 1).fill(0), missingCount: 0, outOfRangeCount: 0, values: { grid: { ...reference.values.grid }, cells: [] } };
}

function emptyScoreLabelSketch(): SerializedScoreLabelSketch {
  return { resolution: DEFAULT_RESOLUTION, bins: [], squaredScoreSum: 0, positiveScoreSum: 0, logLossSum: 0 };
}

// ---------------------------------------------------------------------------------------------
// The window's predictions as rows, for window-export.ts.

/**
 * The window's predictions, each prediction_id once (window_first_copies, with its `refused` flag),
 * and the latest outcome of each (latest_outcomes, with how many outcomes it has; `latest` holds
 * its label kind, value and observed_at). Query parameters: model, start, end (epoch ms),
 * numericFeatures and categoricalFeatures (the spec's names, the score column left out). The same
 * rules as readWindowCells' window_rows, in the form the export pages through.
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
