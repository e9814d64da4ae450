import { createHash } from 'node:crypto';
import { DEFAULT_BIN_COUNT } from '../metrics/binning.js';
import { DEFAULT_CELLS_PER_STANDARD_DEVIATION, type NumericProfileOptions } from '../metrics/sketches/numeric-feature-sketch.js';
import type { WindowShape } from '../metrics/sketches/window-sketch.js';
import { canonicalJson, type CanonicalValue } from './canonical-json.js';

/**
 * Raise when the same inputs would fit a different profile (a change to fitReferenceProfile), so
 * that a refitted profile gets a new version instead of replacing a stored one under the old.
 * 2: the profile holds CBPE's calibration and sampling-error components, fitted on the labels.
 */
const BASELINE_VERSION_DEFINITION = 2;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Lower-case hex sha256 of the bytes, or of the UTF-8 encoding of the text. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Everything a reference profile is fitted from: the arguments of fitReferenceProfile, the reference as its digest. */
export interface BaselineInputs extends NumericProfileOptions {
  shape: WindowShape;
  /** sha256Hex of the reference as it was read, labels included: of a dataset file's bytes, or ReferenceDigest.digest() of rows. */
  referenceDigest: string;
}

/**
 * The version of the baseline fitted from these inputs: sha256Hex of the canonicalJson of
 * `{ definition, shape: { features: [{ name, type }], scoreColumn, segments }, binCount,
 * cellsPerStandardDeviation, referenceDigest }`, defaults filled in so that leaving an option out
 * and passing its default give one version. Only the parts of the shape that the fit reads are
 * hashed, in their order (it is the order of the profile's features and of the report's rows).
 */
export function baselineVersion(inputs: BaselineInputs): string {
  if (!SHA256_HEX.test(inputs.referenceDigest)) throw new RangeError(`reference digest must be a lower-case hex sha256, got "${inputs.referenceDigest}"`);
  const { shape } = inputs;
  return sha256Hex(
    canonicalJson({
      definition: BASELINE_VERSION_DEFINITION,
      shape: {
        features: shape.features.map((feature) => ({ name: feature.name, type: feature.type })),
        scoreColumn: shape.scoreColumn,
        segments: [...shape.segments],
      },
      binCount: inputs.binCount ?? DEFAULT_BIN_COUNT,
      cellsPerStandardDeviation: inputs.cellsPerStandardDeviation ?? DEFAULT_CELLS_PER_STANDARD_DEVIATION,
      referenceDigest: inputs.referenceDigest,
    }),
  );
}

/** A value of one column of one reference row; undefined and null both mean missing. */
export type ReferenceValue = number | string | null | undefined;

/**
 * The digest of reference rows read from somewhere other than a file (a production range), taken
 * row by row so that a reference of any size is hashed without being held. The rows' labels are
 * one of its columns (a production range's under the spec's label column, as a file holds them),
 * since the fit calibrates on them: a changed label is a new digest. The canonical form is
 * one line per entry: first the canonicalJson of the column names in ascending order, then for
 * each row, in the order added, the canonicalJson of its values in that column order (missing as
 * null). Rows must therefore be added in an order the source defines (ORDER BY a unique key), and
 * each value keeps its type: 1 and "1" differ, as do 0 and −0. Non-finite numbers are refused, as
 * the fit refuses them.
 */
export class ReferenceDigest {
  private readonly hash = createHash('sha256');
  private readonly columns: readonly string[];

  constructor(columns: readonly string[]) {
    this.columns = [...columns].sort();
    const duplicate = this.columns.find((column, index) => this.columns[index + 1] === column);
    if (duplicate !== undefined) throw new RangeError(`column ${duplicate} is named twice`);
    this.addLine(this.columns);
  }

  /** Adds one row; a row with a non-finite number is refused before any of it is hashed. */
  add(row: Readonly<Record<string, ReferenceValue>>): void {
    // Own properties only: a column named like an Object.prototype member ("constructor") is a column.
    this.addLine(this.columns.map((column) => (Object.hasOwn(row, column) ? (row[column] ?? null) : null)));
  }

  /** The digest of what was added so far; more rows may follow. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  private addLine(values: readonly CanonicalValue[]): void {
    this.hash.update(`${canonicalJson(values)}\n`);
  }
}
