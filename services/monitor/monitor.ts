import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { clickhouseErrorIdentity } from '../adapters/clickhouse/storage-errors.js';
import { BaselineStore } from '../adapters/clickhouse/baseline-store.js';
import { MetricResultsStore } from '../adapters/clickhouse/metric-results-store.js';
import { MonitorMembership } from '../adapters/clickhouse/monitor-membership.js';
import { MonitorQueries } from '../adapters/clickhouse/monitor-queries.js';
import { WindowCellsStore } from '../adapters/clickhouse/window-cells-store.js';
import { checkModelsFolder } from '../adapters/model-spec/models-folder.js';
import type { LatestWindow, MonitorMetrics } from '../adapters/telemetry/monitor-metrics.js';
import type { ResultRow } from '../core/metrics/result-row.js';
import { LabelDelaySketch } from '../core/metrics/sketches/label-delay-sketch.js';
import { WindowSketch } from '../core/metrics/sketches/window-sketch.js';
import type { ModelSpec } from '../core/model-spec/model-spec.js';
import { specHash, windowStartOf, windowState } from '../core/monitoring/window-plan.js';
import { composeSummaries, partSizeOf, type ComposedSummary, type WindowSummary } from '../core/monitoring/window-parts.js';
import { windowRows } from '../core/monitoring/window-rows.js';
import { ownerOf, workUnit } from '../core/monitoring/work-assignment.js';
import { formatDuration } from '../core/time/duration.js';
import { BaselineFitter } from './baseline-fitter.js';
import { WindowCellsSource } from './window-cells-source.js';

export interface MonitorOptions {
  client: ClickHouseClient;
  database: string;
  modelsDirectory: string;
  logger: Logger;
  metrics: MonitorMetrics;
  vigilVersion: string;
  /** This monitor's name among those sharing the database; each model and window size is evaluated by one of them. */
  instanceId: string;
  /** How long a membership lease lasts without renewal; 30 s unless given. */
  leaseMs?: number;
  /** Wall clock for evaluated_at and the last-success gauge; injected by tests. */
  now?: () => number;
  /** Windows evaluated per model and size in one pass, newest first, so that a long history is worked through over several passes. */
  maximumEvaluationsPerPass?: number;
  /** Whether windows made of smaller window sizes are merged from their parts' cells (WindowCellsSource); true unless given. False reads every window whole. */
  composeWindows?: boolean;
}

export interface PassReport {
  evaluated: number;
  failed: number;
}

interface ModelEntry {
  file: string;
  spec: ModelSpec;
  hash: string;
}

const DEFAULT_MAXIMUM_EVALUATIONS_PER_PASS = 50;
const DEFAULT_LEASE_MS = 30_000;

/**
 * Evaluates the windows of every model of the models folder that need it. A window needs an
 * evaluation when it holds predictions and was never evaluated, when its content changed since its
 * last evaluation (compared through a summary ClickHouse computes for the windows still within the
 * label horizon), and once more when it becomes final. Summaries are kept in memory, so after a
 * restart each window within the label horizon is evaluated once again. A window whose size is a
 * whole number of another of the spec's sizes is summarised part by part, and its cells are merged
 * from its parts' (WindowCellsSource); a pass takes a model's sizes from the smallest up. A failure
 * is logged, counted and retried at the next pass; it never stops the monitor.
 *
 * Monitors sharing a database split the work: every pass renews this one's membership lease, and
 * each model and window size is evaluated by the live member that rendezvous hashing picks
 * (work-assignment.ts). A monitor shows gauges only for what it evaluates, so each series has one
 * source; when a unit moves to another member, its series here are removed.
 */
export class Monitor {
  private readonly queries: MonitorQueries;
  private readonly results: MetricResultsStore;
  private readonly cells: WindowCellsSource;
  private readonly baselines: BaselineFitter;
  private readonly now: () => number;
  private readonly maximumEvaluationsPerPass: number;
  /** Summary of each open window at its last evaluation, by model, size and start. */
  private readonly evaluatedSignatures = new Map<string, string>();
  /** The window each model and size shows (gauges, status line); `closed` once the watermark has passed its end. */
  private readonly latestWindows = new Map<string, LatestWindow & { windowStart: number; closed: boolean }>();
  /** Failure kinds logged since the last clean pass: one line per kind, not one per window. */
  private readonly loggedFailures = new Set<string>();
  private models: ModelEntry[] = [];
  private readonly membership: MonitorMembership;
  private readonly leaseMs: number;
  /** The live members at the last renewal, this monitor among them. */
  private members: string[] = [];
  private renewedAt = -Infinity;
  private lastProblems = '';
  lastPassSucceeded = true;

  constructor(private readonly options: MonitorOptions) {
    this.queries = new MonitorQueries(options.client, options.database);
    this.results = new MetricResultsStore(options.client, options.database);
    this.now = options.now ?? Date.now;
    this.cells = new WindowCellsSource(options.client, this.queries, new WindowCellsStore(options.client, options.database), this.now, options.composeWindows ?? true);
    this.baselines = new BaselineFitter(this.queries, new BaselineStore(options.client, options.database), this.now);
    this.maximumEvaluationsPerPass = options.maximumEvaluationsPerPass ?? DEFAULT_MAXIMUM_EVALUATIONS_PER_PASS;
    this.membership = new MonitorMembership(options.client, options.database);
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Takes a membership lease before the first pass, so that monitors started together see each
   * other at their first pass and split the work from the start; false when storage refused.
   */
  async join(): Promise<boolean> {
    return this.renewMembership(true);
  }

  /** Gives up this monitor's lease, so that the others take over its work at their next pass. */
  async leave(): Promise<void> {
    try {
      await this.membership.leave(this.options.instanceId);
    } catch (error) {
      this.failed('', null, 'membership', error);
    }
  }

  /** One pass over every model and window size; never throws. `signal` stops it between windows. */
  async runPass(signal?: AbortSignal): Promise<PassReport> {
    const report: PassReport = { evaluated: 0, failed: 0 };
    const folderClean = await this.readModels();
    if (!(await this.renewMembership(true))) {
      this.lastPassSucceeded = false;
      return { evaluated: 0, failed: 1 };
    }
    for (const model of this.models) {
      if (signal?.aborted) break;
      // Smallest first: the parts of larger windows are then stored when those are merged.
      const owned = model.spec.monitoring.windowSizesMs.filter((sizeMs) => this.owns(model.spec.modelId, formatDuration(sizeMs))).sort((left, right) => left - right);
      if (owned.length === 0) continue;
      let watermark: number | null;
      try {
        watermark = await this.queries.watermark(model.spec.modelId);
      } catch (error) {
        this.failed(model.spec.modelId, null, 'watermark', error);
        report.failed += 1;
        continue;
      }
      if (watermark === null) continue;
      for (const sizeMs of owned) {
        if (signal?.aborted) break;
        // A long pass renews its lease on the way, so that the others do not take its work over.
        if (!(await this.renewMembership(false))) {
          report.failed += 1;
          break;
        }
        if (!this.owns(model.spec.modelId, formatDuration(sizeMs))) continue;
        const outcome = await this.evaluateSize(model, sizeMs, watermark, signal);
        report.evaluated += outcome.evaluated;
        report.failed += outcome.failed;
      }
    }
    this.lastPassSucceeded = folderClean && report.failed === 0;
    if (this.lastPassSucceeded) {
      this.options.metrics.lastSuccess.set(this.now() / 1000);
      this.loggedFailures.clear();
    }
    return report;
  }

  /**
   * Renews the lease when `always` or when a third of it has passed, and releases what another
   * member now owns; false after a failure, logged, which leaves the pass without work.
   */
  private async renewMembership(always: boolean): Promise<boolean> {
    if (!always && performance.now() - this.renewedAt < this.leaseMs / 3) return true;
    try {
      this.members = await this.membership.renew(this.options.instanceId, this.leaseMs);
      this.renewedAt = performance.now();
    } catch (error) {
      this.failed('', null, 'membership', error);
      return false;
    }
    this.options.metrics.members.set(this.members.length);
    for (const key of [...this.latestWindows.keys()]) {
      const [modelId, windowSize] = key.split('\u0000') as [string, string];
      if (!this.owns(modelId, windowSize)) this.release(modelId, windowSize);
    }
    return true;
  }

  private owns(modelId: string, windowSize: string): boolean {
    return ownerOf(workUnit(modelId, windowSize), this.members) === this.options.instanceId;
  }

  /** Forgets what this monitor showed and remembered of a model and size that another member now evaluates. */
  private release(modelId: string, windowSize: string): void {
    this.latestWindows.delete(windowKey(modelId, windowSize));
    this.options.metrics.forget(modelId, windowSize);
    const prefix = `${windowKey(modelId, windowSize)}\u0000`;
    for (const key of [...this.evaluatedSignatures.keys()]) if (key.startsWith(prefix)) this.evaluatedSignatures.delete(key);
  }

  /** Per model, its latest closed 1h window: predictions, label coverage, AUROC (or its estimate) and rows in warn or alert. */
  status(): string {
    if (this.models.length === 0) return 'monitor: no model';
    return this.models
      .map(({ spec }) => {
        const latest = this.latestWindows.get(windowKey(spec.modelId, '1h'));
        if (!this.owns(spec.modelId, '1h') && this.members.length > 0) return `monitor ${spec.modelId} 1h: evaluated by ${ownerOf(workUnit(spec.modelId, '1h'), this.members)}`;
        if (latest === undefined) return `monitor ${spec.modelId}: no 1h window evaluated yet`;
        const { predictions, outcomes } = latest.accounting;
        const coverage = predictions > 0 ? `${Math.round((100 * outcomes) / predictions)}%` : 'n/a';
        const row = (metric: string): ResultRow | undefined => latest.rows.find((candidate) => candidate.metric === metric && candidate.segment === null && candidate.value !== null);
        const measured = row('auroc');
        const estimated = row('cbpe_auroc');
        const auroc = measured !== undefined ? `auroc=${measured.value!.toFixed(3)}` : estimated !== undefined ? `auroc=${estimated.value!.toFixed(3)} est.` : 'auroc=n/a';
        const count = (status: ResultRow['status']): number => latest.rows.filter((candidate) => candidate.status === status).length;
        return `monitor ${spec.modelId} 1h predictions=${predictions} coverage=${coverage} ${auroc} warn=${count('warn')} alert=${count('alert')}`;
      })
      .join(' | ');
  }

  private async readModels(): Promise<boolean> {
    const { models, problems } = await checkModelsFolder(this.options.modelsDirectory);
    this.models = models.map(({ file, spec }) => ({ file, spec, hash: specHash(spec) }));
    const described = problems.map((problem) => `${problem.file}: ${problem.problem}`).join('\n');
    if (described !== this.lastProblems && problems.length > 0) {
      // Specification problems name files and keys, never event content.
      this.options.logger.error({ problems: problems.length, models: models.length, details: described }, 'models folder has problems; only its valid specifications are monitored');
    }
    this.lastProblems = described;
    return problems.length === 0;
  }

  private async evaluateSize(model: ModelEntry, sizeMs: number, watermark: number, signal: AbortSignal | undefined): Promise<PassReport> {
    const { spec } = model;
    const windowSize = formatDuration(sizeMs);
    const horizon = spec.monitoring.labelHorizonMs;
    // A window is open (provisional) while its end is after this; see windowState.
    const finalEnd = watermark - horizon;
    const openFrom = windowStartOf(finalEnd - sizeMs, sizeMs) + sizeMs;
    // Each window to evaluate, with its summary where it has one. A window made of parts is
    // summarised part by part, so that a merge knows which parts' stored cells still hold.
    const candidates = new Map<number, WindowSummary | ComposedSummary | null>();
    const partSizeMs = partSizeOf(sizeMs, spec.monitoring.windowSizesMs);
    try {
      const [summaries, unevaluated, dueFinal] = await Promise.all([
        partSizeMs === null
          ? this.queries.windowSummaries(spec.modelId, sizeMs, openFrom)
          : this.queries.windowSummaries(spec.modelId, partSizeMs, openFrom).then((parts) => composeSummaries(parts, sizeMs)),
        this.queries.unevaluatedWindows(spec.modelId, sizeMs, windowSize),
        this.queries.windowsDueFinal(spec.modelId, windowSize, finalEnd),
      ]);
      for (const start of [...unevaluated, ...dueFinal]) candidates.set(start, null);
      for (const summary of summaries) {
        const { windowStart, signature } = summary;
        if (this.evaluatedSignatures.get(windowKey(spec.modelId, windowSize, windowStart)) !== signature || candidates.has(windowStart)) candidates.set(windowStart, summary);
      }
    } catch (error) {
      this.failed(spec.modelId, windowSize, 'planning', error);
      return { evaluated: 0, failed: 1 };
    }
    for (const key of this.evaluatedSignatures.keys()) {
      const [modelId, size, start] = key.split('\u0000');
      if (modelId === spec.modelId && size === windowSize && Number(start) < openFrom) this.evaluatedSignatures.delete(key);
    }

    const report: PassReport = { evaluated: 0, failed: 0 };
    const starts = [...candidates.keys()].sort((left, right) => right - left).slice(0, this.maximumEvaluationsPerPass);
    for (const windowStart of starts) {
      if (signal?.aborted) break;
      const began = performance.now();
      const labels = { model: spec.modelId, window: windowSize };
      try {
        const summary = candidates.get(windowStart);
        await this.evaluateWindow(model, windowSize, windowStart, sizeMs, watermark, summary ?? undefined);
        if (summary) this.evaluatedSignatures.set(windowKey(spec.modelId, windowSize, windowStart), summary.signature);
        this.options.metrics.evaluations.inc(labels);
        this.options.metrics.evaluationSeconds.observe((performance.now() - began) / 1000);
        report.evaluated += 1;
      } catch (error) {
        this.options.metrics.evaluationFailures.inc(labels);
        this.failed(spec.modelId, windowSize, 'evaluation', error);
        report.failed += 1;
      }
    }
    return report;
  }

  private async evaluateWindow(model: ModelEntry, windowSize: string, windowStart: number, sizeMs: number, watermark: number, summary?: WindowSummary | ComposedSummary): Promise<void> {
    const { spec } = model;
    const windowEnd = windowStart + sizeMs;
    const baseline = await this.baselines.baselineFor(spec, model.file, model.hash, windowStart, watermark);
    const state = windowState(windowEnd, watermark, spec.monitoring.labelHorizonMs);
    const { cells } = await this.cells.read({
      modelId: spec.modelId,
      baselineVersion: baseline.version,
      profile: baseline.profile,
      windowSizesMs: spec.monitoring.windowSizesMs,
      sizeMs,
      windowStart,
      state,
      watermark,
      labelHorizonMs: spec.monitoring.labelHorizonMs,
      summary,
    });
    const rows = windowRows({
      spec,
      state,
      baseline,
      window: { ...cells.accounting, delays: LabelDelaySketch.fromJSON(cells.labelDelays), segmentGroups: cells.segmentGroups, sketch: () => WindowSketch.fromJSON(baseline.profile, cells.sketch) },
    });
    await this.results.record(
      {
        evaluationId: randomUUID(),
        modelId: spec.modelId,
        modelVersion: spec.modelVersion,
        windowSize,
        windowStart,
        windowEnd,
        state,
        baselineVersion: baseline.version,
        specHash: model.hash,
        vigilVersion: this.options.vigilVersion,
        evaluatedAt: this.now(),
        evaluatedBy: this.options.instanceId,
      },
      rows,
    );
    // Shown is the newest window the watermark has passed: the one still filling is always short of
    // predictions and outcomes, and showing it would make every gauge flap. Until a window closes,
    // the newest open one is shown.
    const key = windowKey(spec.modelId, windowSize);
    const latest = this.latestWindows.get(key);
    const closed = windowEnd <= watermark;
    const newer = latest === undefined || windowStart >= latest.windowStart;
    if (latest === undefined || (closed && (newer || !latest.closed)) || (!latest.closed && newer)) {
      const shown = { modelId: spec.modelId, windowSize, windowStart, windowEnd, closed, baselineVersion: baseline.version, accounting: cells.accounting, rows };
      this.latestWindows.set(key, shown);
      this.options.metrics.showLatest(shown);
    }
  }

  /** Logs a failure once per kind until a pass succeeds: its stage and error type, never its message, which may quote event content. */
  private failed(modelId: string, windowSize: string | null, stage: string, error: unknown): void {
    const identity = clickhouseErrorIdentity(error);
    const failure = identity !== null ? `clickhouse ${identity.type} ${identity.code}` : error instanceof Error ? error.name : typeof error;
    const kind = `${stage}\u0000${failure}`;
    if (this.loggedFailures.has(kind)) return;
    this.loggedFailures.add(kind);
    this.options.logger.error({ model: modelId, window: windowSize, stage, failure }, 'monitor evaluation failed; retrying at the next pass');
  }
}

const windowKey = (modelId: string, windowSize: string, windowStart?: number): string =>
  windowStart === undefined ? `${modelId}\u0000${windowSize}` : `${modelId}\u0000${windowSize}\u0000${windowStart}`;
