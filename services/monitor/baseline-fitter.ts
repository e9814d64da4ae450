import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { reportSettings, type ModelSpec } from '../core/model-spec/model-spec.js';
import { fitReferenceProfile, type ReferenceColumns, type ReferenceProfile } from '../core/metrics/sketches/window-sketch.js';
import { baselineVersion, sha256Hex } from '../core/baseline/baseline-version.js';
import type { BaselineStore } from '../adapters/clickhouse/baseline-store.js';
import { trailingBaselineRange, type ProductionRange } from '../core/monitoring/window-plan.js';
import { countSegmentGroups, type SegmentGroupCounts } from '../core/monitoring/volume-rows.js';
import { BASELINE_ROW_CAP, type MonitorQueries } from '../adapters/clickhouse/monitor-queries.js';
import { datasetColumns, readModelDataset } from '../adapters/dataset/model-dataset.js';

/** A fitted baseline and what results record of it. */
export interface FittedBaseline {
  profile: ReferenceProfile;
  /** Predictions (or dataset rows) it was fitted on, after the cap. */
  rowCount: number;
  /** baselineVersion(): a content hash of the profile's shape and settings and of the reference data. */
  version: string;
  /** The same rows per group of each segment attribute, which the volume rows take shares from. */
  segmentGroups: SegmentGroupCounts;
}

/** Baselines kept fitted; a day of windows of every size shares one trailing baseline, so a few cover a pass. */
const CACHED_BASELINES = 16;

/**
 * Fits each window's baseline as its spec says, once: a trailing baseline per day, a fixed
 * production range or a reference file once per spec. A production range that ends after the
 * model's watermark is still filling, so it is fitted again each time rather than cached. Every
 * baseline a window is compared with is saved under its version (a content hash), so that the
 * profile behind any result can be read back: a new reference gives a new version, never an
 * overwrite, and saving a version again keeps one row. The reference's labels (a file's label
 * column, the latest binary outcomes of a production range's predictions) calibrate the
 * label-free estimate and give its sampling-error band; they are part of the version, so a cached
 * production baseline keeps the outcomes it was fitted with until it is fitted again.
 */
export class BaselineFitter {
  private readonly cache = new Map<string, FittedBaseline>();

  constructor(
    private readonly queries: MonitorQueries,
    private readonly store: BaselineStore,
    private readonly now: () => number,
  ) {}

  async baselineFor(spec: ModelSpec, specFile: string, specHash: string, windowStart: number, watermark: number): Promise<FittedBaseline> {
    const baseline = spec.monitoring.baseline;
    if (baseline.kind === 'reference') {
      const file = resolve(dirname(specFile), baseline.file);
      return this.cached(`reference\u0000${specHash}\u0000${file}`, true, async () => {
        const digest = sha256Hex(await readFile(file));
        const dataset = await readModelDataset(file, spec, { labelOptional: true });
        const columns = datasetColumns(dataset);
        const segmentGroups = countSegmentGroups(spec.segments, columns.segment);
        return this.fitted(spec, specHash, columns, dataset.rowCount, segmentGroups, digest, `file ${baseline.file} sha256:${digest}`);
      });
    }
    const range: ProductionRange = baseline.kind === 'production' ? { from: baseline.from, to: baseline.to } : trailingBaselineRange(windowStart, baseline.lengthMs, baseline.offsetMs);
    return this.cached(`${baseline.kind}\u0000${specHash}\u0000${range.from}\u0000${range.to}`, range.to <= watermark, async () => {
      const { rowCount, columns, digest, segmentGroups } = await this.queries.baselineColumns(spec.modelId, reportSettings(spec), range, spec.labelColumn);
      const description = `production ${new Date(range.from).toISOString()}..${new Date(range.to).toISOString()}, at most ${BASELINE_ROW_CAP} predictions by cityHash64(event_id), with their outcomes`;
      return this.fitted(spec, specHash, columns, rowCount, segmentGroups, digest, description);
    });
  }

  private async fitted(
    spec: ModelSpec,
    specHash: string,
    columns: ReferenceColumns,
    rowCount: number,
    segmentGroups: SegmentGroupCounts,
    referenceDigest: string,
    reference: string,
  ): Promise<FittedBaseline> {
    const settings = reportSettings(spec);
    const profile = fitReferenceProfile(settings, columns, settings);
    const version = baselineVersion({ shape: settings, binCount: settings.binCount, referenceDigest });
    await this.store.save({ modelId: spec.modelId, baselineVersion: version, specHash, fittedAt: this.now(), reference, profile });
    return { profile, rowCount, version, segmentGroups };
  }

  private async cached(key: string, cacheable: boolean, fit: () => Promise<FittedBaseline>): Promise<FittedBaseline> {
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      // Re-inserted so that the map's order is least recently used first.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const fitted = await fit();
    if (!cacheable) return fitted;
    this.cache.set(key, fitted);
    if (this.cache.size > CACHED_BASELINES) this.cache.delete(this.cache.keys().next().value!);
    return fitted;
  }
}
