import type { ClickHouseClient } from '@clickhouse/client';
import type { MonitorQueries } from '../adapters/clickhouse/monitor-queries.js';
import { readWindowCells } from '../adapters/clickhouse/window-cells.js';
import type { WantedCells, WindowCellsStore } from '../adapters/clickhouse/window-cells-store.js';
import type { ReferenceProfile } from '../core/metrics/sketches/window-sketch.js';
import { windowState } from '../core/monitoring/window-plan.js';
import { partSizeOf, partStarts, WindowCellsMerger, type PartSummary, type WindowCells } from '../core/monitoring/window-parts.js';
import { formatDuration } from '../core/time/duration.js';

/** One window of a model to read the cells of, with what decides how. */
export interface CellsRequest {
  modelId: string;
  baselineVersion: string;
  profile: ReferenceProfile;
  /** Every window size of the model's spec: which windows are made of others, and which are parts of others. */
  windowSizesMs: readonly number[];
  sizeMs: number;
  windowStart: number;
  state: 'provisional' | 'final';
  watermark: number;
  labelHorizonMs: number;
  /** The window's summary, when the pass computed it: its signature, stored predictions and, for a window made of parts, theirs. */
  summary?: { signature: string; predictions: number; parts?: ReadonlyMap<number, PartSummary> } | undefined;
}

/** How a window's cells were had: from its events, or merged from its parts' cells. */
export interface CellsReading {
  cells: WindowCells;
  /** Parts merged, and how many of them had to be read from their events; null for a window read whole. */
  parts: { count: number; computed: number } | null;
}

/**
 * What one more query costs, in predictions read: a window's query costs about 0.35 s whatever its
 * size (planning and its fixed work) and about 3.5 µs per prediction on 2 cores, so a query is
 * worth about 100,000 predictions. A window made of parts is merged when the parts that must be
 * read from their events (each its own query) cost less than reading the window whole; merging
 * stored parts costs far less than reading them (measured: a day of 1,000,000 predictions merged
 * from its 24 stored hours in about 0.6 s, read whole in about 4 s).
 */
export const DEFAULT_PART_QUERY_PREDICTIONS = 100_000;

/**
 * The cells of a window, read from its events in one query or, for a window that is a whole number
 * of a smaller window size of its spec (a 1d window of 1h windows), merged from the cells of those
 * parts. A part's stored cells are used when they were binned on the window's baseline and its
 * content's signature is unchanged since, and, for a final window, when they were computed once the
 * part was final. The others are read from their events, each run of consecutive ones in one query (a
 * part read alone is stored), unless there are so many runs that reading the window whole is
 * quicker. Cells of a window that is part of a larger one are stored when it is evaluated.
 *
 * The merged cells are those of the window read whole: every prediction and outcome belongs to one
 * part (window-parts.ts), counts and extremes add up exactly, sums up to the order of addition. A
 * merge holds a batch of parts' cells beside the sum, so the memory of a large window's evaluation
 * is bounded by its cells, not its events.
 *
 * `partQueryPredictions` is what one more query costs in predictions read (DEFAULT_PART_QUERY_PREDICTIONS);
 * 0 merges whenever a window has parts, and Infinity never merges nor stores parts.
 */
export class WindowCellsSource {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly queries: MonitorQueries,
    private readonly store: WindowCellsStore,
    private readonly now: () => number,
    private readonly partQueryPredictions = DEFAULT_PART_QUERY_PREDICTIONS,
  ) {}

  async read(request: CellsRequest): Promise<CellsReading> {
    const end = request.windowStart + request.sizeMs;
    const merging = Number.isFinite(this.partQueryPredictions);
    const kept = merging && this.isPart(request.sizeMs, request.windowSizesMs);
    // Taken before the cells are read: content stored meanwhile then makes the signatures differ
    // later, and the cells are computed again, rather than stale cells passing for current ones.
    const signature = kept ? await this.signatureOf(request) : null;
    const partSizeMs = merging ? partSizeOf(request.sizeMs, request.windowSizesMs) : null;
    const reading = (partSizeMs === null ? null : await this.composed(request, partSizeMs)) ?? { cells: await this.readWhole(request, request.windowStart, end), parts: null };
    if (signature !== null) await this.save(request, request.sizeMs, request.windowStart, request.state, signature, reading.cells);
    return reading;
  }

  private async readWhole(request: CellsRequest, start: number, end: number, expectedPredictions?: number): Promise<WindowCells> {
    const predictions = expectedPredictions ?? request.summary?.predictions ?? (await this.queries.storedPredictions(request.modelId, start, end));
    return readWindowCells(this.client, this.queries.database, request.profile, { modelId: request.modelId, start, end }, { expectedPredictions: predictions });
  }

  /** The window merged from its parts, or null when reading it whole is quicker. */
  private async composed(request: CellsRequest, partSizeMs: number): Promise<CellsReading | null> {
    const end = request.windowStart + request.sizeMs;
    const summaries = request.summary?.parts ?? new Map((await this.queries.windowSummaries(request.modelId, partSizeMs, request.windowStart, end)).map((summary) => [summary.windowStart, summary]));
    const starts = partStarts(request.windowStart, request.sizeMs, partSizeMs);
    const wanted: WantedCells = {
      key: { modelId: request.modelId, baselineVersion: request.baselineVersion, windowSize: formatDuration(partSizeMs) },
      windows: starts.map((start) => ({ windowStart: start, signature: summaries.get(start)?.signature ?? '' })),
      finalOnly: request.state === 'final',
    };
    const holding = await this.store.holding(wanted);
    const held = new Set(holding.map((part) => part.windowStart));
    const heldPredictions = starts.reduce((total, start) => total + (held.has(start) ? (summaries.get(start)?.predictions ?? 0) : 0), 0);
    // Each run of consecutive parts whose cells do not hold is read from its events in one query;
    // the window read whole is one query for all its predictions.
    const runs = runsOf(starts.filter((start) => !held.has(start)), partSizeMs);
    if (runs.length > 1 && (runs.length - 1) * this.partQueryPredictions > heldPredictions) return null;

    const merger = new WindowCellsMerger(request.profile);
    const merged = new Set<number>();
    await this.store.read(wanted, request.profile, holding, (start, cells) => {
      merger.add(cells);
      merged.add(start);
    });
    let computed = 0;
    // Those found unreadable or stored again meanwhile are read too.
    for (const run of runsOf(starts.filter((start) => !merged.has(start)), partSizeMs)) {
      const runEnd = run.at(-1)! + partSizeMs;
      const predictions = run.reduce((total, start) => total + (summaries.get(start)?.predictions ?? 0), 0);
      const cells = await this.readWhole(request, run[0]!, runEnd, predictions);
      // A part read alone is stored; a run of several (the hours of the day still to come, say) is not
      // cut into its parts, which their own evaluations store.
      if (run.length === 1) {
        const state = windowState(runEnd, request.watermark, request.labelHorizonMs);
        await this.save(request, partSizeMs, run[0]!, state, summaries.get(run[0]!)?.signature ?? '', cells);
      }
      merger.addCells(cells);
      computed += run.length;
    }
    return { cells: merger.cells(), parts: { count: starts.length, computed } };
  }

  /** Whether windows of this size are parts of a larger window size of the spec. */
  private isPart(sizeMs: number, windowSizesMs: readonly number[]): boolean {
    return windowSizesMs.some((larger) => partSizeOf(larger, windowSizesMs) === sizeMs);
  }

  /** The window's signature: the pass's, or read now for a window it did not summarise. */
  private async signatureOf(request: CellsRequest): Promise<string> {
    if (request.summary !== undefined) return request.summary.signature;
    const [summary] = await this.queries.windowSummaries(request.modelId, request.sizeMs, request.windowStart, request.windowStart + request.sizeMs);
    return summary?.signature ?? '';
  }

  private async save(request: CellsRequest, sizeMs: number, windowStart: number, state: 'provisional' | 'final', signature: string, cells: WindowCells): Promise<void> {
    await this.store.save({ modelId: request.modelId, baselineVersion: request.baselineVersion, windowSize: formatDuration(sizeMs) }, request.profile, { windowStart, state, signature, cells }, this.now());
  }
}

/** Ascending starts of parts of `partSizeMs`, grouped into runs of consecutive parts. */
function runsOf(starts: readonly number[], partSizeMs: number): number[][] {
  const runs: number[][] = [];
  for (const start of starts) {
    const run = runs.at(-1);
    if (run !== undefined && run.at(-1)! + partSizeMs === start) run.push(start);
    else runs.push([start]);
  }
  return runs;
}
