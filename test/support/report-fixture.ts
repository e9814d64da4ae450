import type { Dataset } from '../../services/adapters/dataset/dataset-file.js';
import { datasetColumns, readModelDataset } from '../../services/adapters/dataset/model-dataset.js';
import { loadModelSpecFile } from '../../services/adapters/dataset/model-spec-file.js';
import { fitReferenceProfile, WindowSketch, type ReferenceProfile } from '../../services/core/metrics/sketches/window-sketch.js';
import { reportSettings, type ModelSpec } from '../../services/core/model-spec/model-spec.js';

// The dataset test/oracles/report_oracle.py generated for `vigil report`: data the project did not make.

export const reportFixturePath = (name: string): string => new URL(`../fixtures/report/${name}`, import.meta.url).pathname;

export interface ReportFixture {
  spec: ModelSpec;
  reference: Dataset;
  current: Dataset;
}

export async function loadReportFixture(): Promise<ReportFixture> {
  const spec = await loadModelSpecFile(reportFixturePath('sepsis-risk.model.yaml'));
  return { spec, reference: await readModelDataset(reportFixturePath('reference.csv'), spec), current: await readModelDataset(reportFixturePath('current.csv'), spec) };
}

/** The fixture with the sketches' profile fitted on its reference, as the monitor fits a baseline. */
export type ProfiledReportFixture = ReportFixture & { profile: ReferenceProfile };

export async function loadProfiledReportFixture(): Promise<ProfiledReportFixture> {
  const fixture = await loadReportFixture();
  const settings = reportSettings(fixture.spec);
  return { ...fixture, profile: fitReferenceProfile(settings, datasetColumns(fixture.reference), settings) };
}

/** Rows from..to of the dataset as one window on the profile: predictions and (when `withOutcomes`) their outcomes. */
export function datasetWindow(profile: ReferenceProfile, spec: ModelSpec, dataset: Dataset, from: number, to: number, withOutcomes = true): WindowSketch {
  const window = new WindowSketch(profile);
  for (let row = from; row < to; row++) {
    const features: Record<string, number | string | null> = {};
    for (const [name, values] of dataset.numeric) features[name] = values[row] ?? null;
    for (const [name, values] of dataset.categorical) features[name] = values[row] ?? null;
    const score = dataset.scores[row]!;
    window.addPrediction({ features, score });
    if (withOutcomes) {
      const segments = Object.fromEntries(spec.segments.map((segment) => [segment, dataset.categorical.get(segment)![row] ?? null]));
      window.addOutcome({ score, label: dataset.labels![row] as 0 | 1, segments });
    }
  }
  return window;
}
