import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { groupFairness, type GroupDisparity } from '../../../services/core/metrics/fairness/group-fairness.js';
import type { Outcome } from '../../../services/core/metrics/result-row.js';

/** Shape of test/fixtures/oracles/fairness.json, written by test/oracles/performance_oracle.py. */
type GroupReference =
  | { group: string; size: number; suppressed: true }
  | {
      group: string;
      size: number;
      suppressed: false;
      selectionRate: { value: number; lower: number; upper: number };
      truePositiveRate: number | null;
      falsePositiveRate: number | null;
      auroc: number | null;
    };

interface FairnessCase {
  name: string;
  threshold: number;
  minimumGroupSize: number;
  scores: number[];
  labels: number[];
  groups: string[];
  expected: {
    groups: GroupReference[];
    demographicParityDifference: number | null;
    equalOpportunityDifference: number | null;
    falsePositiveRateDifference: number | null;
    equalizedOddsDifference: number | null;
  };
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/fairness.json', import.meta.url)), 'utf8'),
) as { versions: Record<string, string>; cases: FairnessCase[] };

/**
 * Rates are quotients of counts and differences of two rates, computed the same way on both
 * sides: 1e-9 relative. Differences that are exactly 0 are compared with 1e-15 absolute.
 */
const RELATIVE_TOLERANCE = 1e-9;
const ABSOLUTE_TOLERANCE = 1e-15;

function expectClose(actual: number, expected: number, label: string): void {
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    Math.max(RELATIVE_TOLERANCE * Math.abs(expected), ABSOLUTE_TOLERANCE),
  );
}

function expectOutcome(actual: Outcome<{ value: number }>, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual.defined, `${label} should be undefined`).toBe(false);
    return;
  }
  expect(actual.defined, `${label} should be defined: ${actual.defined ? '' : actual.reason}`).toBe(true);
  if (actual.defined) expectClose(actual.value.value, expected, label);
}

describe(`groupFairness against fairlearn ${fixture.versions.fairlearn}`, () => {
  for (const testCase of fixture.cases) {
    it(`matches on ${testCase.name}`, () => {
      const report = groupFairness({
        scores: testCase.scores,
        labels: testCase.labels,
        groups: testCase.groups,
        threshold: testCase.threshold,
        minimumGroupSize: testCase.minimumGroupSize,
      });
      expect(report.groups.map((group) => [group.group, group.size, group.suppressed])).toEqual(
        testCase.expected.groups.map((group) => [group.group, group.size, group.suppressed]),
      );
      report.groups.forEach((group, index) => {
        const reference = testCase.expected.groups[index]!;
        if (group.suppressed || reference.suppressed) return;
        expect(group.selectionRate.defined).toBe(true);
        if (group.selectionRate.defined) {
          expectClose(group.selectionRate.value.value, reference.selectionRate.value, `${group.group} selection rate`);
          expectClose(group.selectionRate.value.interval.lower, reference.selectionRate.lower, `${group.group} lower`);
          expectClose(group.selectionRate.value.interval.upper, reference.selectionRate.upper, `${group.group} upper`);
        }
        expectOutcome(group.truePositiveRate, reference.truePositiveRate, `${group.group} TPR`);
        expectOutcome(group.falsePositiveRate, reference.falsePositiveRate, `${group.group} FPR`);
        expectOutcome(group.performance.auroc, reference.auroc, `${group.group} AUROC`);
      });
      expectOutcome(report.demographicParityDifference, testCase.expected.demographicParityDifference, 'DPD');
      expectOutcome(report.equalOpportunityDifference, testCase.expected.equalOpportunityDifference, 'EOpD');
      expectOutcome(report.falsePositiveRateDifference, testCase.expected.falsePositiveRateDifference, 'FPR difference');
      expectOutcome(report.equalizedOddsDifference, testCase.expected.equalizedOddsDifference, 'EOD');
    });
  }

  it('reports suppressed groups with their size and one-class groups as excluded with a reason', () => {
    const testCase = fixture.cases.find((candidate) => candidate.name === 'mixed-sizes-default-minimum')!;
    const report = groupFairness({
      scores: testCase.scores,
      labels: testCase.labels,
      groups: testCase.groups,
      threshold: testCase.threshold,
    });
    expect(report.minimumGroupSize).toBe(30);
    expect(report.groups.find((group) => group.group === 'E')).toEqual({
      group: 'E',
      size: 10,
      suppressed: true,
      reason: '10 rows, fewer than the minimum group size of 30',
    });
    const opportunity = report.equalOpportunityDifference as { defined: true; value: GroupDisparity };
    expect(opportunity.value.excluded).toEqual([
      { group: 'C-negatives-only', reason: 'no positive labels (TP + FN = 0)' },
    ]);
    expect(opportunity.value.groupsCompared).toBe(4);
    const falsePositive = report.falsePositiveRateDifference as { defined: true; value: GroupDisparity };
    expect(falsePositive.value.excluded).toEqual([
      { group: 'F-positives-only', reason: 'no negative labels, so the false positive rate is undefined' },
    ]);
    expect(report.equalizedOddsDifference.defined && report.equalizedOddsDifference.value.largerOf).toBe(
      'false-positive-rate',
    );
  });
});

describe('undefined fairness values carry a reason', () => {
  it('needs two groups of sufficient size', () => {
    const report = groupFairness({
      scores: [0.1, 0.9, 0.4, 0.6],
      labels: [0, 1, 0, 1],
      groups: ['a', 'a', 'b', 'b'],
      threshold: 0.5,
      minimumGroupSize: 3,
    });
    expect(report.groups).toEqual([
      { group: 'a', size: 2, suppressed: true, reason: '2 rows, fewer than the minimum group size of 3' },
      { group: 'b', size: 2, suppressed: true, reason: '2 rows, fewer than the minimum group size of 3' },
    ]);
    expect(report.demographicParityDifference).toEqual({
      defined: false,
      reason:
        'selection rate difference needs at least two groups with a defined selection rate; 0 of the 0 groups with at least 3 rows have one (2 smaller groups suppressed)',
    });
    expect(report.equalizedOddsDifference.defined).toBe(false);
  });

  it('rejects NaN scores and missing group labels, naming the row', () => {
    const nan = groupFairness({ scores: [0.1, Number.NaN], labels: [0, 1], groups: ['a', 'b'], threshold: 0.5 });
    expect(nan.demographicParityDifference).toEqual({
      defined: false,
      reason: 'score at row 1 is NaN; scores must be finite probabilities in [0, 1]',
    });
    expect(nan.groups).toEqual([]);
    const missing = groupFairness({
      scores: [0.1, 0.2],
      labels: [0, 1],
      groups: ['a', undefined as unknown as string],
      threshold: 0.5,
    });
    expect(missing.equalOpportunityDifference).toEqual({
      defined: false,
      reason: 'group at row 1 is undefined; group labels must be strings',
    });
  });

  it('throws on caller errors', () => {
    expect(() => groupFairness({ scores: [0.1], labels: [0], groups: ['a', 'b'], threshold: 0.5 })).toThrow(RangeError);
    expect(() =>
      groupFairness({ scores: [0.1], labels: [0], groups: ['a'], threshold: 0.5, minimumGroupSize: 0 }),
    ).toThrow(RangeError);
  });
});
