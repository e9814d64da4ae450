import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineStore, CorruptBaselineError, type Baseline } from '../../services/adapters/clickhouse/baseline-store.js';
import type { Dataset } from '../../services/adapters/dataset/dataset-file.js';
import { datasetColumns } from '../../services/adapters/dataset/model-dataset.js';
import { baselineVersion, sha256Hex } from '../../services/core/baseline/baseline-version.js';
import { windowReport } from '../../services/core/metrics/rows/window-report.js';
import { MalformedReferenceProfileError, referenceProfileToJSON, serializeReferenceProfile, VERSION_1_ESTIMATION } from '../../services/core/metrics/sketches/reference-profile-json.js';
import { fitReferenceProfile, type ReferenceProfile } from '../../services/core/metrics/sketches/window-sketch.js';
import { reportSettings, type ModelSpec } from '../../services/core/model-spec/model-spec.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';
import { datasetWindow, loadReportFixture, reportFixturePath } from '../support/report-fixture.js';

const DAY = 86_400_000;

describe('the baseline store on real ClickHouse', () => {
  let storage: StorageHarness;
  let store: BaselineStore;
  let spec: ModelSpec;
  let current: Dataset;
  /** The fixture's reference file, then its current file taken as a later reference. */
  let baselines: [Baseline, Baseline];

  /** A baseline of the fixture model fitted on one of its files, as `vigil` would fit one. */
  function fittedBaseline(file: string, dataset: Dataset, fittedAt: number): Baseline {
    const settings = reportSettings(spec);
    const referenceDigest = sha256Hex(readFileSync(reportFixturePath(file)));
    return {
      modelId: spec.modelId,
      baselineVersion: baselineVersion({ shape: settings, binCount: settings.binCount, referenceDigest }),
      specHash: sha256Hex(readFileSync(reportFixturePath('sepsis-risk.model.yaml'))),
      fittedAt,
      reference: `file ${file} sha256:${referenceDigest}`,
      profile: fitReferenceProfile(settings, datasetColumns(dataset), settings),
    };
  }

  const rowsOf = (profile: ReferenceProfile) => windowReport({ window: datasetWindow(profile, spec, current, 0, current.rowCount), ...reportSettings(spec) }).rows;

  async function storedRows(modelId: string, baselineVersion: string): Promise<number> {
    const [row] = await (
      await storage.client.query({
        query: `SELECT count() AS rows FROM ${storage.target.database}.baselines WHERE model_id = {modelId:String} AND baseline_version = {baselineVersion:String}`,
        query_params: { modelId, baselineVersion },
        format: 'JSONEachRow',
      })
    ).json<{ rows: string | number }>();
    return Number(row?.rows);
  }

  beforeAll(async () => {
    storage = await openTestStorage();
    store = new BaselineStore(storage.client, storage.target.database);
    let reference: Dataset;
    ({ spec, reference, current } = await loadReportFixture());
    const fittedAt = Date.UTC(2026, 9, 1, 6);
    baselines = [fittedBaseline('reference.csv', reference, fittedAt), fittedBaseline('current.csv', current, fittedAt + 30 * DAY)];
  });
  afterAll(async () => storage?.close());

  it('gives back the profile it saved, to the bit, with the same windowReport rows', async () => {
    const [baseline] = baselines;
    await store.save(baseline);
    const loaded = await store.load(baseline.modelId, baseline.baselineVersion);
    expect(loaded).not.toBeNull();
    expect(serializeReferenceProfile(loaded!)).toBe(serializeReferenceProfile(baseline.profile));
    expect(rowsOf(loaded!)).toEqual(rowsOf(baseline.profile));
    expect(await store.load(baseline.modelId, baselines[1].baselineVersion)).toBeNull();
    expect(await store.load('readmission', baseline.baselineVersion)).toBeNull();
  });

  it('keeps one row for a version saved twice', async () => {
    const [baseline] = baselines;
    await store.save(baseline);
    await store.save({ ...baseline, fittedAt: baseline.fittedAt + 60_000 });
    expect(await storedRows(baseline.modelId, baseline.baselineVersion)).toBe(1);
  });

  it('stores a second reference as a second version, and keeps both loadable', async () => {
    const [first, second] = baselines;
    expect(second.baselineVersion).not.toBe(first.baselineVersion);
    await store.save(second);
    for (const baseline of baselines) {
      expect(serializeReferenceProfile((await store.load(baseline.modelId, baseline.baselineVersion))!)).toBe(serializeReferenceProfile(baseline.profile));
      expect(await storedRows(baseline.modelId, baseline.baselineVersion)).toBe(1);
    }
    expect(await store.versions(spec.modelId)).toEqual([
      { modelId: spec.modelId, baselineVersion: second.baselineVersion, specHash: second.specHash, fittedAt: second.fittedAt, reference: second.reference, referenceRows: current.rowCount },
      { modelId: spec.modelId, baselineVersion: first.baselineVersion, specHash: first.specHash, fittedAt: first.fittedAt + 60_000, reference: first.reference, referenceRows: 3_000 },
    ]);
    expect(await store.versions('readmission')).toEqual([]);
  });

  it('loads a profile stored before calibration (version 1) as one without labels: raw scores, no band', async () => {
    const [baseline] = baselines;
    const { estimation: _estimation, ...rest } = referenceProfileToJSON(baseline.profile);
    await storage.client.insert({
      table: `${storage.target.database}.baselines`,
      values: [{ model_id: 'stored-long-ago', baseline_version: baseline.baselineVersion, spec_hash: baseline.specHash, fitted_at: '1790000000.000', reference: baseline.reference, reference_rows: 3_000, profile: JSON.stringify({ ...rest, version: 1 }) }],
      format: 'JSONEachRow',
    });
    const loaded = (await store.load('stored-long-ago', baseline.baselineVersion))!;
    expect(loaded.estimation.calibration).toEqual({ defined: false, reason: VERSION_1_ESTIMATION });
    const estimate = (profile: ReferenceProfile) => rowsOf(profile).find((row) => row.metric === 'cbpe_auroc')!;
    expect(estimate(loaded)).toMatchObject({ ci_low: null, ci_high: null });
    expect(estimate(loaded).reason).toContain(`not calibrated: ${VERSION_1_ESTIMATION}`);
    // The profile fitted now calibrates on the reference's labels and has NannyML's band.
    expect(estimate(baseline.profile).ci_low).not.toBeNull();
    expect(rowsOf(loaded).filter((row) => row.metric !== 'cbpe_auroc')).toEqual(rowsOf(baseline.profile).filter((row) => row.metric !== 'cbpe_auroc'));
  });

  it('refuses a stored profile that is damaged, naming the baseline and the fault', async () => {
    const modelId = 'deterioration';
    const [baseline] = baselines;
    const text = serializeReferenceProfile(baseline.profile);
    const damaged: [string, string][] = [
      ['truncated', text.slice(0, text.length / 2)],
      ['of an older format', text.replace('{"version":2,', '{"version":0,')],
      ['with a lost bin', text.replace(/"counts":\[(\d+),/, '"counts":[')],
    ];
    for (const [version, profile] of damaged) {
      await storage.client.insert({
        table: `${storage.target.database}.baselines`,
        values: [{ model_id: modelId, baseline_version: version, spec_hash: baseline.specHash, fitted_at: '1790000000.000', reference: baseline.reference, reference_rows: 3_000, profile }],
        format: 'JSONEachRow',
      });
    }
    const refusal = async (version: string): Promise<CorruptBaselineError> => {
      const error: unknown = await store.load(modelId, version).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CorruptBaselineError);
      expect((error as CorruptBaselineError).cause).toBeInstanceOf(MalformedReferenceProfileError);
      return error as CorruptBaselineError;
    };
    expect((await refusal('truncated')).message).toMatch(/^baseline truncated of model deterioration cannot be used: reference profile \$: is not JSON/);
    expect((await refusal('of an older format')).message).toMatch(/reference profile \$\.version: expected version 2 \(or 1, read without calibration\), got the number 0$/);
    expect((await refusal('with a lost bin')).message).toMatch(/reference profile \$\.features\[0\]\.profile\.counts: expected \d+ bins/);
    expect((await refusal('with a lost bin')).retriable).toBe(false);
  });
});
