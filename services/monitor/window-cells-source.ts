import type { ClickHouseClient } from '@clickhouse/client';
import type { MonitorQueries } from '../adapters/clickhouse/monitor-queries.js';
import { readWindowCells } from '../adapters/clickhouse/window-cells.js';
import type { WindowCellsStore } from '../adapters/clickhouse/window-cells-store.js';
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
  /** Parts merged, and how many of them had to be computed from their events; null for a window read whole. */
  parts: { count: number; computed: number } | null;
}

/**
 * Below this many stored predictions per part on average, a window made of parts is read whole:
 * merging one part's cells costs about as much as reading 100,000 events (measured on 2 cores: a
 * day of 1,000,000 events has 9.6 MB of cells, parsed and merged in about 0.3 s; its events take
 * about 3 s to read whole), and small parts have almost as many cells as events.
 */
export const DEFAULT_PREDICTIONS_PER_PART = 100_000;

/**
 * The cells of a window, read from its events in one query or, for a window that is a whole number
 * of a smaller window size of its spec (a 7d window of 1d windows), merged from the cells of those
 * parts. A part's stored cells are used when they were binned on the window's baseline and its
 * content's signature is unchanged since, and, for a final window, when they were computed once the
 * part was final; any other part is read from its events and stored. Cells of a window that is part
 * of a larger one are stored when they are read, unless the window is too small for that to pay.
 *
 * The merged cells are those of the window read whole: every prediction and outcome belongs to one
 * part (window-parts.ts), counts and extremes add up exactly, sums up to the order of addition. A
 * merge holds one part's cells beside the sum, so the memory of a large window's evaluation is
 * bounded by its cells, not its events.
 */
export class WindowCellsSource {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly queries: MonitorQueries,
    private readonly store: WindowCellsStore,
    private readonly now: () => number,
    private readonly predictionsPerPart = DEFAULT_PREDICTIONS_PER_PART,
  ) {}

  async read(request: CellsRequest): Promise<CellsReading> {
    const end = request.windowStart + request.sizeMs;
    const predictions = request.summary?.predictions ?? (await this.queries.storedPredictions(request.modelId, request.windowStart, end));
    // Kept only where a larger window may be merged from it: a small part is read again more cheaply than merged.
    const kept = this.isPart(request.sizeMs, request.windowSizesMs) && predictions >= this.predictionsPerPart / 2;
    // Taken before the cells are read: content stored meanwhile then makes the signatures differ
    // later, and the cells are computed again, rather than stale cells passing for current ones.
    const signature = kept ? await this.signatureOf(request) : null;
    const partSizeMs = partSizeOf(request.sizeMs, request.windowSizesMs);
    const reading =
      partSizeMs !== null && predictions >= this.predictionsPerPart * (request.sizeMs / partSizeMs)
        ? await this.composed(request, partSizeMs)
        : { cells: await readWindowCells(this.client, this.queries.database, request.profile, { modelId: request.modelId, start: request.windowStart, end }, { expectedPredictions: predictions }), parts: null };
    if (signature !== null) await this.save(request, request.sizeMs, request.windowStart, request.state, signature, reading.cells);
    return reading;
  }

  /** The window merged from its parts. */
  private async composed(request: CellsRequest, partSizeMs: number): Promise<CellsReading> {
    const end = request.windowStart + request.sizeMs;
    const summaries = request.summary?.parts ?? new Map((await this.queries.windowSummaries(request.modelId, partSizeMs, request.windowStart, end)).map((summary) => [summary.windowStart, summary]));
    const starts = partStarts(request.windowStart, request.sizeMs, partSizeMs);

    const merger = new WindowCellsMerger(request.profile);
    const merged = new Set<number>();
    const key = { modelId: request.modelId, baselineVersion: request.baselineVersion, windowSize: formatDuration(partSizeMs) };
    const wanted = starts.map((start) => ({ windowStart: start, signature: summaries.get(start)?.signature ?? '' }));
    await this.store.readMatching(key, request.profile, wanted, request.state === 'final', (start, cells) => {
      merger.add(cells);
      merged.add(start);
    });
    let computed = 0;
    for (const start of starts) {
      if (merged.has(start)) continue;
      const summary = summaries.get(start);
      const cells = await readWindowCells(this.client, this.queries.database, request.profile, { modelId: request.modelId, start, end: start + partSizeMs }, { expectedPredictions: summary?.predictions ?? 0 });
      const state = windowState(start + partSizeMs, request.watermark, request.labelHorizonMs);
      await this.save(request, partSizeMs, start, state, summary?.signature ?? '', cells);
      merger.addCells(cells);
      computed += 1;
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
