"""Reference values for CBPE's calibration on the reference and its sampling-error band.

Writes test/fixtures/oracles/cbpe-calibration.json with the raw inputs of every case and what the
reference libraries compute for them; the TypeScript tests recompute from the stored inputs:
  - isotonic: sklearn.isotonic.isotonic_regression(values, sample_weight=weights), the weighted
    pool-adjacent-violators fit.
  - binnedCalibration: sklearn.isotonic.IsotonicRegression(increasing=True, out_of_bounds="clip"),
    NannyML's IsotonicCalibrator, fitted on the rows with x = the score's bin among `resolution`
    equal-width bins of [0, 1] (min(resolution - 1, floor(score * resolution)), Vigil's scoreBin)
    and y = the label; its X_thresholds_, y_thresholds_ and its predictions at `probeBins`.
  - calibrationError: nannyml.calibration._calculate_expected_calibration_error on the bins of
    _get_bin_index_edges(n, 10), the ECE needs_calibration compares, on distinct values.
  - samplingError: nannyml.sampling_error.binary_classification.auroc_sampling_error_components
    and auroc_sampling_error for chunks of the given sizes, as NannyML computes them, and the same
    formula with the rows sorted by np.argsort(kind="stable"), which is what Vigil computes: NannyML's
    default quicksort leaves the order of tied scores unspecified.
  - endToEnd: NannyML's CBPE (metrics=["roc_auc"], chunk_size) fitted on a reference and estimated
    on an analysis set, its calibration forced on (needs_calibration patched to True) so that the
    calibrated path is the one compared, with needs_calibration's own answer beside it. The
    reference's scores are the centres of distinct bins, so that NannyML's isotonic fit on the raw
    scores is the fit on the bins (the centres are an affine function of the bin), and its
    sampling-error components have no ties. The analysis set is estimated twice: with its scores
    moved to their bins' centres, where NannyML's calibration (linear between the fitted points)
    and Vigil's (one value per bin) coincide, and as it is, which measures how far apart they are.

Undefined values are stored as null. Run with the oracle environment:
    /root/.cache/vigil/oracle-venv/bin/python test/oracles/cbpe_oracle.py
"""

import json
import math
import warnings
from pathlib import Path

import nannyml
import nannyml.calibration as calibration
import nannyml.performance_estimation.confidence_based.cbpe as cbpe_module
import nannyml.sampling_error.binary_classification as sampling_error
import numpy as np
import pandas as pd
import scipy
import sklearn
from sklearn.isotonic import IsotonicRegression, isotonic_regression

OUTPUT = Path(__file__).resolve().parents[1] / "fixtures" / "oracles" / "cbpe-calibration.json"
RESOLUTION = 10_000
THRESHOLD = 0.3
VERSIONS = {
    "scikit-learn": sklearn.__version__,
    "nannyml": nannyml.__version__,
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "pandas": pd.__version__,
}


def number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def score_bins(scores, resolution):
    return np.minimum(resolution - 1, np.floor(np.asarray(scores, dtype=np.float64) * resolution))


def logistic(x):
    return 1 / (1 + np.exp(-x))


def scored_rows(rng, n, slope=1.6, offset=0.5, mean=-1.5):
    """Labels drawn from a latent risk and scores that are a miscalibrated function of it."""
    latent = rng.normal(mean, 1.2, n)
    labels = rng.binomial(1, logistic(latent))
    scores = np.round(logistic(latent * slope + offset), 6)
    return scores, labels


# ---------------------------------------------------------------- isotonic regression


def isotonic_cases():
    rng = np.random.default_rng(20260301)
    cases = []

    def add(name, values, weights):
        values = np.asarray(values, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        fitted = isotonic_regression(values, sample_weight=weights, increasing=True)
        cases.append({"name": name, "values": values.tolist(), "weights": weights.tolist(), "expected": fitted.tolist()})

    add("random-50", rng.random(50), rng.integers(1, 20, 50))
    add("decreasing-20", np.linspace(1, 0, 20), np.ones(20))
    add("already-isotonic-30", np.sort(rng.random(30)), rng.integers(1, 5, 30))
    add("shares-with-ties-40", np.round(rng.random(40), 1), rng.integers(1, 100, 40))
    add("single", [0.4], [3])
    add("two-violating", [0.9, 0.1], [1, 3])
    add("noisy-increasing-2000", np.clip(np.linspace(0, 1, 2000) + rng.normal(0, 0.3, 2000), 0, 1), rng.integers(1, 50, 2000))
    return cases


# ---------------------------------------------------------------- calibration on score bins


def binned_calibration_cases():
    rng = np.random.default_rng(20260302)
    cases = []

    def add(name, scores, labels, resolution):
        scores = np.round(np.asarray(scores, dtype=np.float64), 6)
        labels = np.asarray(labels, dtype=np.int64)
        bins = score_bins(scores, resolution)
        regression = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(bins, labels)
        if resolution <= 1000:
            probe = np.arange(resolution)
        else:
            # Every bin would be 10,000 numbers; the kept points, their neighbours and a regular sample.
            kept = regression.X_thresholds_.astype(np.int64)
            probe = np.unique(np.concatenate([kept, kept - 1, kept + 1, np.arange(0, resolution, 37), [0, resolution - 1]]))
            probe = probe[(probe >= 0) & (probe < resolution)]
        cases.append(
            {
                "name": name,
                "resolution": resolution,
                "scores": scores.tolist(),
                "labels": labels.tolist(),
                "expected": {
                    "thresholdBins": regression.X_thresholds_.astype(np.int64).tolist(),
                    "thresholdValues": regression.y_thresholds_.tolist(),
                    "probeBins": probe.astype(np.int64).tolist(),
                    "probabilities": regression.predict(probe.astype(np.float64)).tolist(),
                },
            }
        )

    scores, labels = scored_rows(rng, 400)
    add("miscalibrated-400-at-200-bins", scores, labels, 200)
    scores, labels = scored_rows(rng, 3000)
    add("miscalibrated-3000-at-10000-bins", scores, labels, RESOLUTION)
    scores, labels = scored_rows(rng, 1500, slope=1.0, offset=0.0)
    add("calibrated-1500-at-10000-bins", scores, labels, RESOLUTION)
    scores = np.round(rng.random(300), 2)
    add("two-decimal-scores-300-at-1000-bins", scores, rng.binomial(1, scores), 1000)
    add("scores-at-0-and-1", [0, 0, 0, 1, 1, 1, 0.5, 0.5], [0, 1, 0, 1, 1, 0, 1, 0], RESOLUTION)
    add("one-class", rng.random(50), np.zeros(50, dtype=np.int64), 1000)
    return cases


# ---------------------------------------------------------------- NannyML's expected calibration error


def calibration_error_cases():
    """nannyml.calibration._calculate_expected_calibration_error on its _get_bin_index_edges(n, 10) bins; distinct values, so the sort is NannyML's."""
    rng = np.random.default_rng(20260305)
    cases = []

    def add(name, values, labels):
        values = np.asarray(values, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.int64)
        edges = calibration._get_bin_index_edges(len(values), 10)
        ece = calibration._calculate_expected_calibration_error(labels, values, edges)
        cases.append({"name": name, "values": values.tolist(), "labels": labels.tolist(), "binEdges": [[int(a), int(b)] for a, b in edges], "expected": float(ece)})

    values = rng.permutation(np.arange(1, 1001) / 1001)
    add("1000-rows", values, rng.binomial(1, values**1.5))
    values = rng.permutation(np.arange(1, 26) / 26)
    add("25-rows", values, rng.binomial(1, values))
    values = rng.permutation(np.arange(1, 8) / 8)
    add("7-rows", values, [0, 1, 0, 1, 1, 0, 1])
    return cases


# ---------------------------------------------------------------- sampling error of ROC AUC


def stable_components(labels, scores):
    """auroc_sampling_error_components with np.argsort(kind="stable"); otherwise line for line NannyML's."""
    y_true = np.asarray(labels)
    y_pred_proba = np.asarray(scores, dtype=np.float64)
    if np.mean(y_true) > 0.5:
        y_true = abs(y_true - 1)
        y_pred_proba = 1 - y_pred_proba
    sorted_idx = np.argsort(y_pred_proba, kind="stable")
    y_true = y_true[sorted_idx]
    rank_order = np.asarray(range(len(y_pred_proba)))
    positive_ranks = y_true * rank_order
    indexes = np.unique(positive_ranks)[1:]
    ser = [index - i for i, index in enumerate(indexes)]
    n_pos = np.sum(y_true)
    n_neg = len(y_true) - n_pos
    ser_multi = np.asarray(ser) / n_neg
    return np.std(ser_multi), n_pos / len(y_true)


def sampling_error_cases():
    rng = np.random.default_rng(20260303)
    cases = []

    def add(name, scores, labels, chunk_sizes):
        scores = np.round(np.asarray(scores, dtype=np.float64), 6)
        labels = np.asarray(labels, dtype=np.int64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            std, fraction = sampling_error.auroc_sampling_error_components(pd.Series(labels), pd.Series(scores))
            stable_std, stable_fraction = stable_components(labels, scores)
            errors = [number(sampling_error.auroc_sampling_error((std, fraction), np.zeros(size))) for size in chunk_sizes]
        cases.append(
            {
                "name": name,
                "scores": scores.tolist(),
                "labels": labels.tolist(),
                "chunkSizes": chunk_sizes,
                "expected": {
                    "nannyml": [number(std), number(fraction)],
                    "stable": [number(stable_std), number(stable_fraction)],
                    "samplingErrors": errors,
                },
            }
        )

    scores, labels = scored_rows(rng, 1000)
    add("continuous-1000", scores, labels, [100, 2000])
    scores, labels = scored_rows(rng, 800, mean=1.5)
    add("mostly-positive-800", scores, labels, [500])
    add("lowest-row-positive", [0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.9], [1, 0, 0, 1, 0, 1, 0, 0], [8, 50])
    scores, labels = scored_rows(rng, 600)
    add("two-decimal-ties-600", np.round(scores, 2), labels, [300])
    add("all-tied", np.full(40, 0.25), rng.binomial(1, 0.25, 40), [40])
    add("one-positive", [0.1, 0.5, 0.3, 0.2], [0, 1, 0, 0], [10])
    add("no-positive", [0.1, 0.5, 0.3], [0, 0, 0], [10])
    scores, labels = scored_rows(rng, 5000)
    add("large-5000", scores, labels, [2000, 20000])
    return cases


# ---------------------------------------------------------------- NannyML's CBPE end to end


def end_to_end_cases():
    rng = np.random.default_rng(20260304)
    cases = []
    original_needs_calibration = cbpe_module.needs_calibration

    def add(name, reference_rows, analysis_rows, chunk_size, analysis_mean):
        scores, labels = scored_rows(rng, reference_rows * 3)
        bins = score_bins(scores, RESOLUTION)
        _, first = np.unique(bins, return_index=True)
        keep = np.sort(first)[:reference_rows]
        reference = pd.DataFrame({"score": (bins[keep] + 0.5) / RESOLUTION, "label": labels[keep]})
        analysis_scores, analysis_labels = scored_rows(rng, analysis_rows, mean=analysis_mean)
        analysis = pd.DataFrame({"score": analysis_scores, "label": analysis_labels})
        centred = pd.DataFrame({"score": (score_bins(analysis_scores, RESOLUTION) + 0.5) / RESOLUTION, "label": analysis_labels})
        for frame in (reference, analysis, centred):
            frame["predicted"] = (frame["score"] >= THRESHOLD).astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nannyml_decision = bool(original_needs_calibration(reference["label"].to_numpy(), reference["score"].to_numpy(), calibration.IsotonicCalibrator()))
            cbpe_module.needs_calibration = lambda *args, **kwargs: True
            try:
                estimator = nannyml.CBPE(
                    problem_type="classification_binary",
                    y_pred_proba="score",
                    y_pred="predicted",
                    y_true="label",
                    metrics=["roc_auc"],
                    chunk_size=chunk_size,
                )
                estimator.fit(reference.copy())
                result = estimator.estimate(centred.copy()).filter(period="analysis").to_df()
                raw_result = estimator.estimate(analysis.copy()).filter(period="analysis").to_df()
            finally:
                cbpe_module.needs_calibration = original_needs_calibration
        std, fraction = estimator.metrics[0]._sampling_error_components
        chunks = []
        for (_, row), (_, raw_row) in zip(result.iterrows(), raw_result.iterrows()):
            start, end = int(row[("chunk", "start_index")]), int(row[("chunk", "end_index")]) + 1
            chunks.append(
                {
                    "start": start,
                    "end": end,
                    "estimatedAuroc": number(row[("roc_auc", "value")]),
                    "samplingError": number(row[("roc_auc", "sampling_error")]),
                    "lower": number(row[("roc_auc", "lower_confidence_boundary")]),
                    "upper": number(row[("roc_auc", "upper_confidence_boundary")]),
                    "estimatedAurocOfRawScores": number(raw_row[("roc_auc", "value")]),
                }
            )
        cases.append(
            {
                "name": name,
                "threshold": THRESHOLD,
                "reference": {"scores": reference["score"].tolist(), "labels": reference["label"].tolist()},
                "analysisScores": analysis["score"].tolist(),
                "centredAnalysisScores": centred["score"].tolist(),
                "expected": {"components": [number(std), number(fraction)], "nannymlNeedsCalibration": nannyml_decision, "chunks": chunks},
            }
        )

    add("miscalibrated-2000-chunks-of-1000", 2000, 3000, 1000, -1.5)
    add("shifted-analysis-3000-chunks-of-1500", 3000, 3000, 1500, -0.8)
    return cases


def main():
    fixture = {
        "versions": VERSIONS,
        "resolution": RESOLUTION,
        "isotonic": isotonic_cases(),
        "binnedCalibration": binned_calibration_cases(),
        "calibrationError": calibration_error_cases(),
        "samplingError": sampling_error_cases(),
        "endToEnd": end_to_end_cases(),
    }
    OUTPUT.write_text(json.dumps(fixture, allow_nan=False, separators=(",", ":")) + "\n")
    print(f"{OUTPUT}: {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
