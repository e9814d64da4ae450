import type { DatasetColumns } from '../../core/metrics/rows/dataset-report.js';
import type { ModelSpec } from '../../core/model-spec/model-spec.js';
import { readDataset, type Dataset, type DatasetRequest } from './dataset-file.js';

/** Reads the columns a model spec names (features, segments, score, label) from a dataset file. */
export function readModelDataset(
  file: string,
  spec: ModelSpec,
  options: Pick<DatasetRequest, 'labelOptional' | 'onProgress'> = {},
): Promise<Dataset> {
  return readDataset(file, {
    numeric: spec.features.filter((feature) => feature.type === 'numeric').map((feature) => feature.name),
    categorical: [...spec.features.filter((feature) => feature.type === 'categorical').map((feature) => feature.name), ...spec.segments],
    score: spec.scoreColumn,
    label: spec.labelColumn,
    ...options,
  });
}

/** A dataset as the metrics core takes it, column by column. */
export function datasetColumns(dataset: Dataset): DatasetColumns {
  const column = <T>(columns: Map<string, T>, name: string): T => {
    const values = columns.get(name);
    if (values === undefined) throw new Error(`column ${name} was not read`);
    return values;
  };
  return {
    rowCount: dataset.rowCount,
    numeric: (name) => column(dataset.numeric, name),
    categorical: (name) => column(dataset.categorical, name),
    segment: (name) => column(dataset.categorical, name),
    scores: dataset.scores,
    labels: dataset.labels,
  };
}
