import type { ClickHouseClient } from '@clickhouse/client';
import type { MonitorQueries } from '../adapters/clickhouse/monitor-queries.js';
import { readWindowCells } from '../adapters/clickhouse/window-cells.js';
import type { WantedCells, WindowCellsStore } from '../adapters/clickhouse/window-cells-store.js';
import type { ReferenceProfile } from '../core/metrics/sketches/window-sketch.js';
import { windowState } from '../core/monitoring/window-plan.js';
import { partSizeOf, partStarts, WindowCellsMerger, type ComposedSummary, type WindowCells, type WindowSummary } from '../core/monitoring/window-parts.js';
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
  /** The window's summary, when the pass computed it, with its parts' for a window made of parts. */
  summary?: WindowSummary | ComposedSummary | undefined;
}

/** How a window's cells were had: from its events, or merged from its parts' cells. */
export interface CellsReading {
  cells: WindowCells;
  /** Parts merged, and how many of them were not stored (or not for this content) and were computed; null for a window read whole. */
  parts: { count: number; computed: number } | null;
}

/**
 * The cells of a window: read from its events in one query or, for a window that is a whole number
 * of a smaller window size of its spec (a 1d window of 1h windows), merged from the cells of those
 * parts, always. A part's stored cells are used when they were binned on the window's baseline and
 * its content's signature is unchanged since, and, for a final window, when they were computed once
 * the part was final. Any other part with stored predictions is read as a window of its own (merged
 * from its own parts if it has some) and stored; the parts without stored predictions, which can
 * hold only counts of outcomes whose prediction is not stored, are read together, one query for
 * each run of them, and stored nowhere. Cells of a window that is part of a larger one are stored
 * whenever it is evaluated.
 *
 * A window's cells are thus always its parts' cells merged, and each part's are the same whoever
 * computes them and whenever: the merge adds sums with compensation, in whatever order the parts
 * come (WindowCellsMerger), so one monitor, or several that split the window sizes between them
 * and store parts at different times, give the same cells and the same rows. Against the window
 * read whole, counts, minima and maxima are equal and sums differ only in their rounding.
 *
 * A merge holds a batch of parts' cells beside the sum, so the memory of a large window's
 * evaluation is bounded by its cells, not its events. `composing` false reads every window whole
 * and stores nothing (the comparison the tests and benchmarks make).
 */
export class WindowCellsSource {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly queries: MonitorQueries,
    private readonly store: WindowCellsStore,
    private readonly now: () => number,
    private readonly composing = true,
  ) {}

  async read(request: CellsRequest): Promise<CellsReading> {
    const end = request.windowStart + request.sizeMs;
    const kept = this.composing && this.isPart(request.sizeMs, request.windowSizesMs);
    // Taken before the cells are read: content stored meanwhile then makes the signatures differ
    // later, and the cells are computed again, rather than stale cells passing for current ones.
    const signature = kept ? await this.signatureOf(request) : null;
    const partSizeMs = this.composing ? partSizeOf(request.sizeMs, request.windowSizesMs) : null;
    const reading = partSizeMs === null ? { cells: await this.readWhole(request, request.windowStart, end), parts: null } : await this.composed(request, partSizeMs);
    if (signature !== null) await this.save(request, request.sizeMs, request.windowStart, request.state, signature, reading.cells);
    return reading;
  }

  private async readWhole(request: CellsRequest, start: number, end: number, expectedPredictions?: number): Promise<WindowCells> {
    const predictions = expectedPredictions ?? request.summary?.predictions ?? (await this.queries.storedPredictions(request.modelId, start, end));
    return readWindowCells(this.client, this.queries.database, request.profile, { modelId: request.modelId, start, end }, { expectedPredictions: predictions });
  }

  /** The window merged from its parts: stored, or read as windows of their own. */
  private async composed(request: CellsRequest, partSizeMs: number): Promise<CellsReading> {
    const end = request.windowStart + request.sizeMs;
    const summaries =
      request.summary !== undefined && 'parts' in request.summary
        ? request.summary.parts
        : new Map((await this.queries.windowSummaries(request.modelId, partSizeMs, request.windowStart, end)).map((summary) => [summary.windowStart, summary]));
    const starts = partStarts(request.windowStart, request.sizeMs, partSizeMs);
    const wanted: WantedCells = {
      key: { modelId: request.modelId, baselineVersion: request.baselineVersion, windowSize: formatDuration(partSizeMs) },
      windows: starts.map((start) => ({ windowStart: start, signature: summaries.get(start)?.signature ?? '' })),
      finalOnly: request.state === 'final',
    };
    const merger = new WindowCellsMerger(request.profile);
    const merged = new Set<number>();
    await this.store.read(wanted, request.profile, await this.store.holding(wanted), (start, cells) => {
      merger.add(cells);
      merged.add(start);
    });
    // Parts not stored, stored for another content or found unreadable.
    const missing = starts.filter((start) => !merged.has(start));
    for (const start of missing) {
      const summary = summaries.get(start);
      if (summary === undefined) continue;
      const state = windowState(start + partSizeMs, request.watermark, request.labelHorizonMs);
      merger.addCells((await this.read({ ...request, sizeMs: partSizeMs, windowStart: start, state, summary })).cells);
    }
    for (const run of runsOf(missing.filter((start) => !summaries.has(start)), partSizeMs)) {
      merger.addCells(await this.readWhole(request, run[0]!, run.at(-1)! + partSizeMs, 0));
    }
    return { cells: merger.cells(), parts: { count: starts.length, computed: missing.length } };
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
