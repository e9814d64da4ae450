import type { ClickHouseClient } from '@clickhouse/client';
import { MalformedReferenceProfileError, parseReferenceProfile, serializeReferenceProfile } from '../../core/metrics/sketches/reference-profile-json.js';
import type { ReferenceProfile } from '../../core/metrics/sketches/window-sketch.js';
import { clickhouseTime, epochMs } from './clickhouse-time.js';

/** A fitted reference profile with what a reviewer needs to trace it: its inputs' hash, spec and data. */
export interface Baseline {
  modelId: string;
  /** baselineVersion() of the inputs the profile was fitted from. */
  baselineVersion: string;
  /** Hash of the whole spec that saved it; specs differing only outside the profile's shape share a version, and the last to save it is shown. */
  specHash: string;
  /** Epoch ms. */
  fittedAt: number;
  /** Where the reference came from, for a reader: "file sepsis-reference.csv sha256:…", "production 2026-10-01..2026-10-31". */
  reference: string;
  profile: ReferenceProfile;
}

export interface BaselineSummary extends Omit<Baseline, 'profile'> {
  /** Rows of the reference data, rows with missing values included. */
  referenceRows: number;
}

/** A stored baseline whose profile cannot be used; loading it again gives the same answer. */
export class CorruptBaselineError extends Error {
  readonly retriable = false;

  constructor(
    readonly modelId: string,
    readonly baselineVersion: string,
    fault: MalformedReferenceProfileError,
  ) {
    super(`baseline ${baselineVersion} of model ${modelId} cannot be used: ${fault.message}`, { cause: fault });
    this.name = 'CorruptBaselineError';
  }
}

interface SummaryRecord {
  model_id: string;
  baseline_version: string;
  spec_hash: string;
  fitted_at: string;
  reference: string;
  reference_rows: string | number;
}

/**
 * Fitted baselines in ClickHouse (`baselines`), one row per model and baseline version. A version
 * is a hash of the profile's inputs, so saving is idempotent: the same version saved again is the
 * same profile and stays one row, and a new reference or shape is a new version beside the others.
 */
export class BaselineStore {
  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
  ) {}

  async save(baseline: Baseline): Promise<void> {
    await this.client.insert({
      table: `${this.database}.baselines`,
      values: [
        {
          model_id: baseline.modelId,
          baseline_version: baseline.baselineVersion,
          spec_hash: baseline.specHash,
          fitted_at: clickhouseTime(baseline.fittedAt),
          reference: baseline.reference,
          reference_rows: referenceRows(baseline.profile),
          profile: serializeReferenceProfile(baseline.profile),
        },
      ],
      format: 'JSONEachRow',
    });
  }

  /** The profile of that version, or null when none is stored; a stored profile that is malformed is refused. */
  async load(modelId: string, baselineVersion: string): Promise<ReferenceProfile | null> {
    const [record] = await (
      await this.client.query({
        query: `SELECT profile FROM ${this.database}.baselines WHERE model_id = {modelId:String} AND baseline_version = {baselineVersion:String}`,
        query_params: { modelId, baselineVersion },
        format: 'JSONEachRow',
      })
    ).json<{ profile: string }>();
    if (record === undefined) return null;
    try {
      return parseReferenceProfile(record.profile);
    } catch (error) {
      if (error instanceof MalformedReferenceProfileError) throw new CorruptBaselineError(modelId, baselineVersion, error);
      throw error;
    }
  }

  /** Every stored baseline of the model, without profiles, the most recently fitted first. */
  async versions(modelId: string): Promise<BaselineSummary[]> {
    const records = await (
      await this.client.query({
        query: `
          SELECT model_id, baseline_version, spec_hash, fitted_at, reference, reference_rows
          FROM ${this.database}.baselines
          WHERE model_id = {modelId:String}
          ORDER BY fitted_at DESC, baseline_version`,
        query_params: { modelId },
        format: 'JSONEachRow',
      })
    ).json<SummaryRecord>();
    return records.map((record) => ({
      modelId: record.model_id,
      baselineVersion: record.baseline_version,
      specHash: record.spec_hash,
      fittedAt: epochMs(record.fitted_at),
      reference: record.reference,
      referenceRows: Number(record.reference_rows),
    }));
  }
}

/** The score column, last of a profile's features (fitReferenceProfile), has an entry in every reference row. */
function referenceRows(profile: ReferenceProfile): number {
  const score = profile.features.at(-1);
  if (score?.type !== 'numeric') throw new RangeError('a reference profile ends with its numeric score column');
  return score.profile.totalCount;
}
