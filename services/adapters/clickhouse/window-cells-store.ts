import type { ClickHouseClient } from '@clickhouse/client';
import type { ReferenceProfile } from '../../core/metrics/sketches/window-sketch.js';
import { MalformedWindowCellsError, reviveWindowCells, serializeWindowCells, type RevivedWindowCells, type WindowCells } from '../../core/monitoring/window-parts.js';
import { clickhouseTime } from './clickhouse-time.js';

/** Which window's cells, binned on which baseline. */
export interface StoredCellsKey {
  modelId: string;
  baselineVersion: string;
  windowSize: string;
}

/** One window's cells as stored, with what says whether they still hold. */
export interface StoredWindowCells {
  windowStart: number;
  state: 'provisional' | 'final';
  /** The window summary's signature when the cells were computed; '' for a window that had no prediction. */
  signature: string;
  cells: WindowCells;
}

/**
 * Evaluated windows' cells in ClickHouse (`window_cells`), kept for the larger windows they are
 * parts of. Reads are FINAL (the client's `final = 1`), so the latest evaluation of a window wins.
 * Cells that cannot be read on the profile (a document damaged in storage) are left out, so that the
 * window is computed again rather than the evaluation failing.
 */
export class WindowCellsStore {
  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
  ) {}

  async save(key: StoredCellsKey, stored: StoredWindowCells, evaluatedAt: number): Promise<void> {
    await this.client.insert({
      table: `${this.database}.window_cells`,
      values: [
        {
          model_id: key.modelId,
          baseline_version: key.baselineVersion,
          window_size: key.windowSize,
          window_start: clickhouseTime(stored.windowStart),
          window_state: stored.state,
          signature: stored.signature,
          evaluated_at: clickhouseTime(evaluatedAt),
          cells: serializeWindowCells(stored.cells),
        },
      ],
      format: 'JSONEachRow',
    });
  }

  /**
   * The stored cells of each wanted window whose stored signature is the one wanted (and whose
   * state is final, when `finalOnly`), read and checked on the profile one window at a time and
   * handed to `use`, so that a caller merging them holds one window's cells beside its sum. Those
   * that cannot be read (damaged in storage) are left out and their starts returned; the caller
   * computes them again.
   */
  async readMatching(
    key: StoredCellsKey,
    profile: ReferenceProfile,
    wanted: readonly { windowStart: number; signature: string }[],
    finalOnly: boolean,
    use: (windowStart: number, cells: RevivedWindowCells) => void,
  ): Promise<number[]> {
    if (wanted.length === 0) return [];
    const parameters = { ...key, starts: wanted.map((part) => part.windowStart) };
    const keyFilter = 'model_id = {modelId:String} AND baseline_version = {baselineVersion:String} AND window_size = {windowSize:String}';
    const stored = await (
      await this.client.query({
        query: `SELECT toUnixTimestamp64Milli(window_start) AS start, window_state AS state, signature FROM ${this.database}.window_cells
                WHERE ${keyFilter} AND toUnixTimestamp64Milli(window_start) IN {starts:Array(Int64)}`,
        query_params: parameters,
        format: 'JSONEachRow',
      })
    ).json<{ start: number | string; state: string; signature: string }>();
    const signatures = new Map(wanted.map((part) => [part.windowStart, part.signature]));
    const holds = (start: number, state: string, signature: string): boolean => signatures.get(start) === signature && (!finalOnly || state === 'final');
    const unreadable: number[] = [];
    for (const row of stored) {
      const windowStart = Number(row.start);
      if (!holds(windowStart, row.state, row.signature)) continue;
      // One window's cells at a time, as raw text: a document of megabytes is not escaped into JSON and parsed twice.
      const text = await (
        await this.client.query({
          query: `SELECT window_state, signature, cells FROM ${this.database}.window_cells WHERE ${keyFilter} AND window_start = fromUnixTimestamp64Milli({start:Int64}, 'UTC')`,
          query_params: { ...key, start: windowStart },
          format: 'TabSeparatedRaw',
        })
      ).text();
      const [state = '', signature = '', cells = ''] = splitFields(text.replace(/\n$/, ''), 3);
      // Written again since the first read: taken only if it still holds.
      if (!holds(windowStart, state, signature)) continue;
      try {
        use(windowStart, reviveWindowCells(profile, cells));
      } catch (error) {
        if (!(error instanceof MalformedWindowCellsError)) throw error;
        unreadable.push(windowStart);
      }
    }
    return unreadable;
  }
}

/** The first `count` − 1 tab-separated fields of a line, and the rest of it as the last. */
function splitFields(line: string, count: number): string[] {
  const fields: string[] = [];
  let from = 0;
  while (fields.length < count - 1) {
    const tab = line.indexOf('\t', from);
    if (tab < 0) break;
    fields.push(line.slice(from, tab));
    from = tab + 1;
  }
  fields.push(line.slice(from));
  return fields;
}
