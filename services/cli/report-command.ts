import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadModelSpecFile } from '../adapters/dataset/model-spec-file.js';
import type { Dataset } from '../adapters/dataset/dataset-file.js';
import { datasetColumns, readModelDataset } from '../adapters/dataset/model-dataset.js';
import { reportSettings, type ModelSpec } from '../core/model-spec/model-spec.js';
import { datasetReport } from '../core/metrics/rows/dataset-report.js';
import { renderHtmlReport, scoreShares } from '../report/html-report.js';
import { createProgressBar } from './progress-bar.js';

export interface ReportArguments {
  spec: string;
  reference: string;
  current: string;
  format: 'json' | 'html';
  out: string | undefined;
}

/** `vigil report`: every metric, computed exactly on a reference and a current dataset file. */
export async function reportCommand(args: ReportArguments): Promise<number> {
  const spec = await loadModelSpecFile(args.spec);
  const reference = await read(args.reference, spec, false);
  const current = await read(args.current, spec, true);
  const unlabelled = current.labels?.filter((label) => label === null).length ?? 0;
  if (unlabelled > 0) {
    process.stderr.write(`vigil report: ${unlabelled.toLocaleString('en-US')} rows of ${basename(args.current)} have no label; they are left out of performance, calibration and fairness\n`);
  }
  const report = datasetReport({
    ...reportSettings(spec),
    reference: datasetColumns(reference),
    current: datasetColumns(current),
  });
  const output =
    args.format === 'json'
      ? JSON.stringify({ model_id: spec.modelId, model_version: spec.modelVersion, rows: report.rows }, null, 1) + '\n'
      : renderHtmlReport({
          modelId: spec.modelId,
          modelVersion: spec.modelVersion,
          referenceName: basename(args.reference),
          currentName: basename(args.current),
          generatedAt: new Date(),
          rows: report.rows,
          reliability: report.reliability,
          scoreDistribution: { reference: scoreShares(reference.scores), current: scoreShares(current.scores) },
        });
  if (args.out) {
    await writeFile(args.out, output);
    const alerts = report.rows.filter((row) => row.status === 'alert').length;
    process.stderr.write(`vigil report: ${report.rows.length} rows (${alerts} alert) written to ${args.out}\n`);
  } else process.stdout.write(output);
  return 0;
}

async function read(file: string, spec: ModelSpec, labelOptional: boolean): Promise<Dataset> {
  const progress = createProgressBar(`reading ${basename(file)}`);
  const dataset = await readModelDataset(file, spec, {
    labelOptional,
    onProgress: (bytesRead, totalBytes, rowsRead) => progress.update(bytesRead, totalBytes, `${rowsRead.toLocaleString('en-US')} rows`),
  });
  progress.finish(`${dataset.rowCount.toLocaleString('en-US')} rows`);
  return dataset;
}
