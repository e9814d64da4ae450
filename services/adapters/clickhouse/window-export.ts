import type { ClickHouseClient } from '@clickhouse/client';
import { windowTables, type EventWindow } from './window-cells.js';

/**
 * The predictions of a time range of one model, one row each, exactly as the monitor's window
 * cells count them (window-cells.ts shares its window tables with this module): each prediction_id
 * once, its earliest stored copy, in the range of that copy's occurred_at; predictions with a
 * wrongly typed feature or a score outside [0, 1] left out; a boolean categorical value as the
 * category "true" or "false"; the label of its latest outcome when that outcome is a binary 0/1
 * label, none otherwise. Rows come in (occurred_at, prediction_id) order, read a page at a time,
 * so memory follows the page size, never the range: embedded ClickHouse holds a whole result in
 * memory before handing it over, a server streams it.
 *
 * Entity keys, producer details and lineage stay in the tables; a row carries the prediction_id
 * and occurred_at to trace it back, and the columns a dataset file of the model has.
 */

/** The columns of a model's dataset, named as its spec names them; the score column is separate. */
export interface WindowExportColumns {
  numericFeatures: readonly string[];
  categoricalFeatures: readonly string[];
  segments: readonly string[];
}

export interface WindowExportPaging {
  /** Rows per query; EXPORT_PAGE_ROWS by default. */
  pageRows?: number;
  /** Length of the first slice of the range, milliseconds; an hour by default. */
  firstSliceMs?: number;
}

export interface WindowPredictionRow {
  predictionId: string;
  /** Epoch milliseconds. */
  occurredAt: number;
  /** In the order of `numericFeatures`; null when the prediction does not carry the feature. */
  numeric: (number | null)[];
  /** In the order of `categoricalFeatures`. */
  categorical: (string | null)[];
  score: number;
  /** The latest outcome's binary label; null without an outcome, or when it is a regression or class label. */
  label: 0 | 1 | null;
  /** In the order of `segments`; null when the prediction does not carry the attribute. */
  segments: (string | null)[];
}

/** Rows per query: a few megabytes of result, which embedded ClickHouse holds whole before handing it over. */
export const EXPORT_PAGE_ROWS = 50_000;

/** The first slice of the range, by default; later ones are sized from the rows the previous one held. */
const FIRST_SLICE_MS = 3_600_000;
const SHORTEST_SLICE_MS = 1_000;

/** [occurred_at ms, which a server quotes as a 64-bit integer and chDB does not] and the rest as selected. */
type PageRow = [string, number | string, (number | null)[], (string | null)[], number, number | null, (string | null)[]];

/**
 * The window's predictions in (occurred_at, prediction_id) order. The range is read in slices of
 * time, each sized to hold about `pageRows` predictions judging by the slice before it, and each
 * slice in pages of at most `pageRows` after the last row read: a query's window tables then cover
 * about one page of the range, not all of it. A prediction belongs to the slice of its earliest
 * copy, as to the window of it, so the slices together hold exactly the range's predictions.
 */
export async function* windowPredictionRows(
  client: ClickHouseClient,
  database: string,
  window: EventWindow,
  columns: WindowExportColumns,
  paging: WindowExportPaging = {},
): AsyncGenerator<WindowPredictionRow, void, undefined> {
  const { pageRows = EXPORT_PAGE_ROWS, firstSliceMs = FIRST_SLICE_MS } = paging;
  if (!Number.isSafeInteger(pageRows) || pageRows < 1) throw new RangeError(`pageRows must be a positive integer, got ${pageRows}`);
  if (!Number.isSafeInteger(firstSliceMs) || firstSliceMs < 1) throw new RangeError(`firstSliceMs must be a positive integer, got ${firstSliceMs}`);
  const query = exportPageQuery(database);
  let sliceStart = window.start;
  let sliceLength = firstSliceMs;
  while (sliceStart < window.end) {
    const sliceEnd = Math.min(window.end, sliceStart + sliceLength);
    // Every occurred_at of the slice is at or after its start, so its first page starts after (start − 1 ms, '').
    let after = { time: sliceStart - 1, predictionId: '' };
    let sliceRows = 0;
    for (;;) {
      const result = await client.query({
        query,
        query_params: {
          model: window.modelId,
          // The window tables cover [the last row's time, the slice's end): the rows before were
          // written, and the first copy of a prediction is still looked for before the page's start.
          start: Math.max(sliceStart, after.time),
          end: sliceEnd,
          numericFeatures: [...columns.numericFeatures],
          categoricalFeatures: [...columns.categoricalFeatures],
          segments: [...columns.segments],
          afterTime: after.time,
          afterId: after.predictionId,
          pageRows,
        },
        format: 'JSONCompactEachRow',
      });
      let read = 0;
      let last: WindowPredictionRow | undefined;
      for await (const batch of result.stream<PageRow>()) {
        for (const line of batch) {
          const [predictionId, occurredAt, numeric, categorical, score, label, segments] = line.json();
          last = { predictionId, occurredAt: Number(occurredAt), numeric, categorical, score, label: label === 0 || label === 1 ? label : null, segments };
          read += 1;
          yield last;
        }
      }
      sliceRows += read;
      if (read < pageRows || last === undefined) break;
      after = { time: last.occurredAt, predictionId: last.predictionId };
    }
    const length = sliceEnd - sliceStart;
    sliceStart = sliceEnd;
    // Aim the next slice at one page: longer after a sparse slice, shorter after one of several pages.
    sliceLength = sliceRows === 0 ? length * 8 : Math.max(Math.min(SHORTEST_SLICE_MS, length), Math.min(length * 8, Math.max(length / 8, Math.floor((length * pageRows) / sliceRows))));
  }
}

function exportPageQuery(database: string): string {
  return `
    WITH ${windowTables(database)}
    SELECT
      prediction.prediction_id,
      toUnixTimestamp64Milli(prediction.occurred_at),
      arrayMap(name -> if(mapContains(prediction.features_numeric, name), toNullable(prediction.features_numeric[name]), NULL), {numericFeatures:Array(String)}),
      arrayMap(
        name -> if(mapContains(prediction.features_text, name), toNullable(prediction.features_text[name]),
                if(mapContains(prediction.features_boolean, name), toNullable(toString(prediction.features_boolean[name])), NULL)),
        {categoricalFeatures:Array(String)}),
      prediction.score,
      -- A prediction without an outcome joins the defaults (outcome_count 0), never a label.
      if(outcome.outcome_count > 0 AND outcome.latest.1 = 'binary' AND outcome.latest.2 IN (0, 1), toNullable(toUInt8(outcome.latest.2)), NULL),
      arrayMap(name -> if(mapContains(prediction.segments, name), toNullable(prediction.segments[name]), NULL), {segments:Array(String)})
    FROM sketched_predictions AS prediction
    LEFT JOIN latest_outcomes AS outcome ON prediction.prediction_id = outcome.prediction_id
    WHERE (prediction.occurred_at, prediction.prediction_id) > (fromUnixTimestamp64Milli({afterTime:Int64}, 'UTC'), {afterId:String})
    ORDER BY prediction.occurred_at, prediction.prediction_id
    LIMIT {pageRows:UInt32}`;
}
