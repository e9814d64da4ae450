import type { ClickHouseClient } from '@clickhouse/client';
import type { ReferenceProfile } from '../../core/metrics/sketches/window-sketch.js';
import { decodeCellColumns, encodeWindowCells } from '../../core/monitoring/window-cells-codec.js';
import { MalformedWindowCellsError, type CellColumns, type WindowCells } from '../../core/monitoring/window-parts.js';
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

  /** Saves the cells binned on `profile`, the baseline the key names. */
  async save(key: StoredCellsKey, profile: ReferenceProfile, stored: StoredWindowCells, evaluatedAt: number): Promise<void> {
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
          cells: Buffer.from(encodeWindowCells(profile, stored.cells)).toString('base64'),
        },
      ],
      format: 'JSONEachRow',
    });
  }

  /**
   * The stored cells of each wanted window whose stored signature is the one wanted (and whose
   * state is final, when `finalOnly`), read and checked on the profile and handed to `use` one
   * window at a time. They are fetched in batches of at most BATCH_TEXT_BYTES of stored text, so
   * that a caller merging them holds a batch beside its sum, whatever the number of windows. Those
   * that cannot be read (damaged in storage) are left out and their starts returned; the caller
   * computes them again.
   */
  async readMatching(
    key: StoredCellsKey,
    profile: ReferenceProfile,
    wanted: readonly { windowStart: number; signature: string }[],
    finalOnly: boolean,
    use: (windowStart: number, cells: CellColumns) => void,
  ): Promise<number[]> {
    if (wanted.length === 0) return [];
    const parameters = { ...key, starts: wanted.map((part) => part.windowStart) };
    const keyFilter = 'model_id = {modelId:String} AND baseline_version = {baselineVersion:String} AND window_size = {windowSize:String}';
    const stored = await (
      await this.client.query({
        query: `SELECT toUnixTimestamp64Milli(window_start) AS start, window_state AS state, signature, length(cells) AS length FROM ${this.database}.window_cells
                WHERE ${keyFilter} AND toUnixTimestamp64Milli(window_start) IN {starts:Array(Int64)} ORDER BY start`,
        query_params: parameters,
        format: 'JSONEachRow',
      })
    ).json<{ start: number | string; state: string; signature: string; length: number | string }>();
    const signatures = new Map(wanted.map((part) => [part.windowStart, part.signature]));
    const holds = (start: number, state: string, signature: string): boolean => signatures.get(start) === signature && (!finalOnly || state === 'final');
    const batches: number[][] = [];
    let batchBytes = Infinity;
    for (const row of stored) {
      const windowStart = Number(row.start);
      if (!holds(windowStart, row.state, row.signature)) continue;
      if (batchBytes + Number(row.length) > BATCH_TEXT_BYTES) {
        batches.push([]);
        batchBytes = 0;
      }
      batches.at(-1)!.push(windowStart);
      batchBytes += Number(row.length);
    }
    const unreadable: number[] = [];
    for (const starts of batches) {
      // As raw text, every field free of tabs and newlines: a document of megabytes is not escaped into JSON.
      const text = await (
        await this.client.query({
          query: `SELECT toUnixTimestamp64Milli(window_start), window_state, base64Encode(signature), cells FROM ${this.database}.window_cells
                  WHERE ${keyFilter} AND toUnixTimestamp64Milli(window_start) IN {starts:Array(Int64)}`,
          query_params: { ...key, starts },
          format: 'TabSeparatedRaw',
        })
      ).text();
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const [start = '', state = '', signature = '', cells = ''] = line.split('\t');
        const windowStart = Number(start);
        // Written again since the first read: taken only if it still holds.
        if (!holds(windowStart, state, Buffer.from(signature, 'base64').toString('utf8'))) continue;
        try {
          use(windowStart, decodeCellColumns(profile, base64Bytes(cells)));
        } catch (error) {
          if (!(error instanceof MalformedWindowCellsError)) throw error;
          unreadable.push(windowStart);
        }
      }
    }
    return unreadable;
  }
}

/** The most stored text fetched in one query, unless one window's cells alone are more. */
const BATCH_TEXT_BYTES = 16 * 1024 * 1024;

/**
 * The bytes of base64 text; anything else is a MalformedWindowCellsError. Buffer.from skips what is
 * not base64, so text with anything else in it decodes to fewer bytes than its length says.
 */
function base64Bytes(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.length % 4 !== 0 || bytes.length !== (text.length / 4) * 3 - padding) throw new MalformedWindowCellsError('the stored cells are not base64');
  return bytes;
}
