import type { ClickHouseClient } from '@clickhouse/client';
import type { ReferenceProfile } from '../../core/metrics/sketches/window-sketch.js';
import { ByteReader } from '../../core/monitoring/byte-codec.js';
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
   * The wanted windows whose stored cells still hold: their stored signature is the one wanted
   * and, when `finalOnly`, they were computed once the window was final. Only what describes the
   * cells is read, not the cells.
   */
  async holding(wanted: WantedCells): Promise<HoldingCells[]> {
    if (wanted.windows.length === 0) return [];
    const stored = await (
      await this.client.query({
        query: `SELECT toUnixTimestamp64Milli(window_start) AS start, window_state AS state, signature, cells_bytes FROM ${this.database}.window_cells
                WHERE ${KEY_FILTER} AND toUnixTimestamp64Milli(window_start) IN {starts:Array(Int64)} ORDER BY start`,
        query_params: { ...wanted.key, starts: wanted.windows.map((window) => window.windowStart) },
        format: 'JSONEachRow',
      })
    ).json<{ start: number | string; state: string; signature: string; cells_bytes: number | string }>();
    const holds = holdsFor(wanted);
    return stored.flatMap((row) => (holds(Number(row.start), row.state === 'final', row.signature) ? [{ windowStart: Number(row.start), storedBytes: Number(row.cells_bytes) }] : []));
  }

  /**
   * The cells of the holding windows, read and checked on the profile and handed to `use` one
   * window at a time. They are fetched in batches of at most BATCH_TEXT_BYTES of stored text, so
   * that a caller merging them holds a batch beside its sum, whatever the number of windows. A
   * window stored again since holding() and no longer holding is left out, as is one whose cells
   * cannot be read (damaged in storage); the caller computes those again.
   */
  async read(wanted: WantedCells, profile: ReferenceProfile, holding: readonly HoldingCells[], use: (windowStart: number, cells: CellColumns) => void): Promise<void> {
    const batches: number[][] = [];
    let batchBytes = Infinity;
    for (const window of holding) {
      if (batchBytes + window.storedBytes > BATCH_TEXT_BYTES) {
        batches.push([]);
        batchBytes = 0;
      }
      batches.at(-1)!.push(window.windowStart);
      batchBytes += window.storedBytes;
    }
    const holds = holdsFor(wanted);
    for (const starts of batches) {
      // Decoded from base64 by ClickHouse and fetched as RowBinary: bytes, not text to decode here.
      // Text that is not base64 (a damaged row) decodes to no bytes, which no document is.
      const { stream } = await this.client.exec({
        query: `SELECT toUnixTimestamp64Milli(window_start), window_state = 'final', signature, tryBase64Decode(cells) FROM ${this.database}.window_cells
                WHERE ${KEY_FILTER} AND toUnixTimestamp64Milli(window_start) IN {starts:Array(Int64)} FORMAT RowBinary`,
        query_params: { ...wanted.key, starts },
      });
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      const rows = new ByteReader(Buffer.concat(chunks));
      while (!rows.atEnd) {
        const windowStart = rows.int64();
        const final = rows.byte() === 1;
        const signature = rows.string();
        const cells = rows.take(rows.uint());
        if (!holds(windowStart, final, signature)) continue;
        try {
          use(windowStart, decodeCellColumns(profile, cells));
        } catch (error) {
          if (!(error instanceof MalformedWindowCellsError)) throw error;
        }
      }
    }
  }
}

/** Which windows' stored cells are wanted, with the signature each must have been stored under. */
export interface WantedCells {
  key: StoredCellsKey;
  windows: readonly { windowStart: number; signature: string }[];
  /** Only cells computed once their window was final. */
  finalOnly: boolean;
}

/** A window whose stored cells hold, and the length of its stored text. */
export interface HoldingCells {
  windowStart: number;
  storedBytes: number;
}

const KEY_FILTER = 'model_id = {modelId:String} AND baseline_version = {baselineVersion:String} AND window_size = {windowSize:String}';

function holdsFor(wanted: WantedCells): (windowStart: number, final: boolean, signature: string) => boolean {
  const signatures = new Map(wanted.windows.map((window) => [window.windowStart, window.signature]));
  return (windowStart, final, signature) => signatures.get(windowStart) === signature && (!wanted.finalOnly || final);
}

/** The most stored text (base64) fetched in one query, unless one window's cells alone are more. */
const BATCH_TEXT_BYTES = 16 * 1024 * 1024;
