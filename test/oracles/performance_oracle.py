"""Reference values for the performance, calibration, fairness and label-free estimation metrics.

Writes four fixtures under test/fixtures/oracles/ with the raw inputs of every case and what the
reference libraries compute for them; the TypeScript tests recompute from the stored inputs:
  - performance.json: scikit-learn (roc_auc_score, average_precision_score, brier_score_loss,
    log_loss, confusion_matrix, precision/recall/f1), statsmodels proportion_confint("wilson"),
    and DeLong's AUROC variance written here in numpy from its original pairwise definition
    (structural components as row and column means of the O(m·n) comparison matrix), which shares
    nothing with the midrank algorithm under test. A bootstrap standard error is stored for two
    cases as a sanity check of the DeLong values, not as a reference.
  - calibration.json: statsmodels GLM(Binomial) for the calibration intercept (logit(score) as
    offset, intercept only) and slope (intercept and logit(score) as regressors), numpy for the
    expected calibration error and reliability table from the documented bins (edges k/10, bin k
    holds k/10 <= s < (k+1)/10, the last bin also holds 1.0), cross-checked against
    sklearn.calibration.calibration_curve where no score sits on an edge.
  - fairness.json: fairlearn (selection_rate, true/false_positive_rate, MetricFrame,
    demographic_parity_difference, equal_opportunity_difference, equalized_odds_difference).
  - cbpe.json: nannyml's estimate_roc_auc, estimate_precision/recall/specificity/f1/accuracy and
    the expected confusion matrix as its get_*_estimate methods compute it.

Undefined values are stored as null. Scores are rounded to 6 decimals before anything is computed,
so the stored inputs are exactly the inputs the references saw.

Run with the oracle environment:
    /root/.cache/vigil/oracle-venv/bin/python test/oracles/performance_oracle.py
"""

import json
import math
import warnings
from pathlib import Path

import fairlearn
import nannyml
import numpy as np
import pandas as pd
import scipy
import sklearn
import statsmodels
import statsmodels.api as sm
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from nannyml.performance_estimation.confidence_based.metrics import (
    estimate_accuracy,
    estimate_f1,
    estimate_precision,
    estimate_recall,
    estimate_roc_auc,
    estimate_specificity,
)
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from statsmodels.stats.proportion import proportion_confint

OUTPUT_DIRECTORY = Path(__file__).resolve().parents[1] / "fixtures" / "oracles"
# The calibration fits take logit(score) with the score clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP], as
# Vigil does; log loss is left to scikit-learn, which clips to the float64 machine epsilon itself.
LOGIT_CLIP = 1e-15
LEVEL = 0.95
VERSIONS = {
    "scikit-learn": sklearn.__version__,
    "statsmodels": statsmodels.__version__,
    "fairlearn": fairlearn.__version__,
    "nannyml": nannyml.__version__,
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "pandas": pd.__version__,
}


def scores_of(values):
    return np.round(np.asarray(values, dtype=np.float64), 6)


def number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def wilson(successes, trials):
    if trials == 0:
        return None
    lower, upper = proportion_confint(successes, trials, alpha=1 - LEVEL, method="wilson")
    return {"value": successes / trials, "lower": float(lower), "upper": float(upper)}


# ---------------------------------------------------------------- performance


def delong_pairwise(scores, labels):
    """DeLong, DeLong & Clarke-Pearson (1988) from the comparison matrix psi(x_i, y_j)."""
    positives = scores[labels == 1]
    negatives = scores[labels == 0]
    m, n = len(positives), len(negatives)
    if m < 2 or n < 2:
        return None
    v10 = np.empty(m)
    v01 = np.zeros(n)
    for start in range(0, m, 256):
        block = positives[start : start + 256, None]
        psi = (block > negatives[None, :]) + 0.5 * (block == negatives[None, :])
        v10[start : start + 256] = psi.mean(axis=1)
        v01 += psi.sum(axis=0)
    v01 /= m
    auroc = v10.mean()
    variance = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    standard_error = math.sqrt(variance)
    z = stats.norm.isf((1 - LEVEL) / 2)
    return {
        "auroc": float(auroc),
        "standardError": standard_error,
        "lower": max(0.0, auroc - z * standard_error),
        "upper": min(1.0, auroc + z * standard_error),
    }


def bootstrap_standard_error(scores, labels, resamples, seed):
    rng = np.random.default_rng(seed)
    estimates = []
    while len(estimates) < resamples:
        index = rng.integers(0, len(scores), len(scores))
        if labels[index].min() == labels[index].max():
            continue
        estimates.append(roc_auc_score(labels[index], scores[index]))
    return float(np.std(estimates, ddof=1))


def performance_expected(scores, labels, threshold):
    n = len(scores)
    if n == 0:
        return None
    predicted = (scores >= threshold).astype(int)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(labels, predicted, labels=[0, 1]).ravel())
    positives, negatives = tp + fn, tn + fp
    both_classes = positives > 0 and negatives > 0
    brier = float(brier_score_loss(labels, scores, labels=[0, 1]))
    assert abs(brier - np.mean((scores - labels) ** 2)) <= 1e-15
    sensitivity = wilson(tp, positives)
    if sensitivity is not None:
        assert sensitivity["value"] == recall_score(labels, predicted)
    ppv = wilson(tp, tp + fp)
    if ppv is not None:
        assert ppv["value"] == precision_score(labels, predicted)
    f1_denominator = 2 * tp + fp + fn
    delong = delong_pairwise(scores, labels)
    auroc = float(roc_auc_score(labels, scores)) if both_classes else None
    if delong is not None:
        assert abs(delong["auroc"] - auroc) <= 1e-12
    return {
        "counts": {
            "rows": n,
            "positives": positives,
            "negatives": negatives,
            "truePositives": tp,
            "falsePositives": fp,
            "trueNegatives": tn,
            "falseNegatives": fn,
        },
        "auroc": auroc,
        "delong": None if delong is None else {k: delong[k] for k in ("standardError", "lower", "upper")},
        "averagePrecision": float(average_precision_score(labels, scores)) if positives > 0 else None,
        "brierScore": brier,
        "logLoss": float(log_loss(labels, scores, labels=[0, 1])),
        "prevalence": wilson(positives, n),
        "sensitivity": sensitivity,
        "specificity": wilson(tn, negatives),
        "positivePredictiveValue": ppv,
        "negativePredictiveValue": wilson(tn, tn + fn),
        "accuracy": wilson(tp + tn, n),
        "f1": float(f1_score(labels, predicted)) if f1_denominator > 0 else None,
    }


def performance_cases():
    rng = np.random.default_rng(20240601)
    cases = []

    def add(name, scores, labels, threshold, bootstrap=None):
        scores = scores_of(scores)
        labels = np.asarray(labels, dtype=np.int64)
        case = {
            "name": name,
            "threshold": threshold,
            "scores": scores.tolist(),
            "labels": labels.tolist(),
            "expected": performance_expected(scores, labels, threshold),
        }
        if bootstrap is not None:
            case["bootstrapStandardError"] = bootstrap_standard_error(scores, labels, *bootstrap)
            ratio = case["bootstrapStandardError"] / case["expected"]["delong"]["standardError"]
            assert 0.85 < ratio < 1.15, (name, ratio)
        cases.append(case)

    risk = rng.beta(2, 5, 500)
    add("random-500", np.clip(risk + rng.normal(0, 0.1, 500), 0, 1), rng.random(500) < risk, 0.3, (2000, 11))
    risk = rng.beta(2, 3, 300)
    add("ties-one-decimal-300", np.round(risk, 1), rng.random(300) < risk, 0.3)
    add("all-equal-scores-40", np.full(40, 0.25), np.arange(40) < 10, 0.25)
    add("one-class-positive-20", rng.random(20), np.ones(20), 0.5)
    add("one-class-negative-20", rng.random(20), np.zeros(20), 0.5)
    add("tiny-2", [0.2, 0.8], [0, 1], 0.5)
    add("tiny-3", [0.4, 0.4, 0.9], [1, 0, 1], 0.4)
    add("tiny-4", [0.1, 0.6, 0.35, 0.8], [0, 0, 1, 1], 0.5)
    add("single-row", [0.7], [1], 0.5)
    labels = np.arange(200) < 80
    perfect = np.where(labels, rng.uniform(0.6, 1, 200), rng.uniform(0, 0.4, 200))
    add("perfect-200", perfect, labels, 0.5)
    add("inverted-200", 1 - perfect, labels, 0.5)
    extremes = np.concatenate([np.zeros(15), np.ones(15), rng.random(70)])
    add("scores-at-0-and-1-100", extremes, rng.random(100) < 0.5, 0.5)
    risk = rng.beta(1, 4, 150)
    add("threshold-above-every-score", np.minimum(risk, 0.95), rng.random(150) < risk, 0.99)
    add("threshold-at-zero", risk, rng.random(150) < risk, 0.0)
    risk = rng.beta(1.2, 9, 20000)
    add("large-20k", np.round(np.clip(risk * np.exp(rng.normal(0, 0.3, 20000)), 0, 1), 4), rng.random(20000) < risk, 0.2, (400, 12))
    add("empty", [], [], 0.5)
    return cases


# ---------------------------------------------------------------- calibration

EDGES = np.arange(11) / 10


def reliability(scores, labels):
    bins = np.minimum(np.searchsorted(EDGES, scores, side="right") - 1, 9)
    table = []
    for k in range(10):
        inside = bins == k
        count = int(inside.sum())
        table.append(
            {
                "lower": float(EDGES[k]),
                "upper": float(EDGES[k + 1]),
                "count": count,
                "meanScore": float(scores[inside].mean()) if count else None,
                "observedRate": float(labels[inside].mean()) if count else None,
            }
        )
    return table


def separated(logits, labels):
    positives, negatives = logits[labels == 1], logits[labels == 0]
    return negatives.max() <= positives.min() or positives.max() <= negatives.min()


def glm(labels, exog, offset):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.GLM(labels, exog, family=sm.families.Binomial(), offset=offset).fit(tol=1e-14, maxiter=500)


def calibration_expected(scores, labels):
    n = len(scores)
    if n == 0:
        return None
    table = reliability(scores, labels)
    ece = sum(b["count"] / n * abs(b["meanScore"] - b["observedRate"]) for b in table if b["count"])
    on_edge = np.isin(scores, EDGES[1:-1]).any()
    if not on_edge and len(np.unique(labels)) == 2:
        observed, predicted = calibration_curve(labels, scores, n_bins=10, strategy="uniform")
        filled = [b for b in table if b["count"]]
        assert np.allclose(observed, [b["observedRate"] for b in filled], rtol=1e-12, atol=0)
        assert np.allclose(predicted, [b["meanScore"] for b in filled], rtol=1e-12, atol=0)
    clipped = np.clip(scores, LOGIT_CLIP, 1 - LOGIT_CLIP)
    logits = np.log(clipped) - np.log1p(-clipped)
    one_class = labels.min() == labels.max()
    intercept = slope = None
    if not one_class:
        fit = glm(labels, np.ones((n, 1)), logits)
        assert fit.converged
        intercept = {"value": float(fit.params[0]), "standardError": float(fit.bse[0])}
        if np.ptp(logits) > 0 and not separated(logits, labels):
            fit = glm(labels, np.column_stack([np.ones(n), logits]), None)
            assert fit.converged
            slope = {"value": float(fit.params[1]), "standardError": float(fit.bse[1])}
        elif np.ptp(logits) > 0:
            # statsmodels runs off towards an infinite slope on separated data.
            fit = glm(labels, np.column_stack([np.ones(n), logits]), None)
            assert abs(fit.params[1]) > 100 or not fit.converged, fit.params
    return {
        "expectedCalibrationError": float(ece),
        "calibrationIntercept": intercept,
        "calibrationSlope": slope,
        "observedExpectedRatio": float(labels.sum() / scores.sum()) if scores.sum() > 0 else None,
        "reliability": table,
    }


def calibration_cases():
    rng = np.random.default_rng(20240602)
    cases = []

    def add(name, scores, labels):
        scores = scores_of(scores)
        labels = np.asarray(labels, dtype=np.int64)
        cases.append(
            {
                "name": name,
                "scores": scores.tolist(),
                "labels": labels.tolist(),
                "expected": calibration_expected(scores, labels),
            }
        )

    def logit(p):
        return np.log(p) - np.log1p(-p)

    def expit(x):
        return 1 / (1 + np.exp(-x))

    risk = rng.beta(2, 3, 1000)
    add("calibrated-1000", risk, rng.random(1000) < risk)
    risk = rng.beta(2, 3, 1000)
    add("overconfident-1000", expit(2 * logit(risk) + 0.3), rng.random(1000) < risk)
    risk = rng.beta(1.5, 6, 20000)
    add("large-20k", expit(0.8 * logit(risk) - 0.2), rng.random(20000) < risk)
    edges = np.tile(EDGES, 30)
    add("scores-on-bin-edges", edges, rng.random(len(edges)) < np.clip(edges, 0.05, 0.95))
    extremes = np.concatenate([np.zeros(10), np.ones(10), rng.beta(2, 2, 180)])
    add("scores-at-0-and-1", extremes, rng.random(200) < np.clip(extremes, 0.2, 0.8))
    add("all-equal-scores", np.full(60, 0.3), np.arange(60) < 25)
    add("all-zero-scores", np.zeros(50), np.arange(50) < 5)
    labels = np.arange(100) < 40
    add("separated", np.where(labels, rng.uniform(0.5, 1, 100), rng.uniform(0, 0.5, 100)), labels)
    add("touching-at-one-score", np.concatenate([np.linspace(0.1, 0.5, 20), np.linspace(0.5, 0.9, 20)]), np.arange(40) >= 20)
    add("one-class", rng.random(40), np.zeros(40))
    add("tiny-3", [0.2, 0.5, 0.7], [0, 1, 0])
    add("empty", [], [])
    return cases


# ---------------------------------------------------------------- fairness


def fairness_expected(scores, labels, groups, threshold, minimum):
    predicted = (scores >= threshold).astype(int)
    names = sorted(set(groups.tolist()))
    per_group = []
    kept = []
    for name in names:
        inside = groups == name
        size = int(inside.sum())
        if size < minimum:
            per_group.append({"group": name, "size": size, "suppressed": True})
            continue
        kept.append(name)
        y, p, s = labels[inside], predicted[inside], scores[inside]
        positives, negatives = int(y.sum()), int((1 - y).sum())
        selected = int(p.sum())
        assert selected / size == selection_rate(y, p)
        tpr = float(true_positive_rate(y, p)) if positives else None
        fpr = float(false_positive_rate(y, p)) if negatives else None
        per_group.append(
            {
                "group": name,
                "size": size,
                "suppressed": False,
                "selectionRate": wilson(selected, size),
                "truePositiveRate": tpr,
                "falsePositiveRate": fpr,
                "auroc": float(roc_auc_score(y, s)) if positives and negatives else None,
            }
        )

    def rows_of(names_kept):
        return np.isin(groups, names_kept)

    with_positives = [g for g in kept if labels[groups == g].sum() > 0]
    with_negatives = [g for g in kept if (1 - labels[groups == g]).sum() > 0]
    dpd = eod = fprd = None
    if len(kept) >= 2:
        rows = rows_of(kept)
        dpd = float(demographic_parity_difference(labels[rows], predicted[rows], sensitive_features=groups[rows]))
    if len(with_positives) >= 2:
        rows = rows_of(with_positives)
        eod = float(equal_opportunity_difference(labels[rows], predicted[rows], sensitive_features=groups[rows]))
    if len(with_negatives) >= 2:
        rows = rows_of(with_negatives)
        frame = MetricFrame(
            metrics=false_positive_rate, y_true=labels[rows], y_pred=predicted[rows], sensitive_features=groups[rows]
        )
        fprd = float(frame.difference())
    equalized = max(eod, fprd) if eod is not None and fprd is not None else None
    if equalized is not None and len(with_positives) == len(with_negatives) == len(kept):
        rows = rows_of(kept)
        direct = equalized_odds_difference(labels[rows], predicted[rows], sensitive_features=groups[rows])
        assert direct == equalized, (direct, equalized)
    return {
        "groups": per_group,
        "demographicParityDifference": dpd,
        "equalOpportunityDifference": eod,
        "falsePositiveRateDifference": fprd,
        "equalizedOddsDifference": equalized,
    }


def fairness_cases():
    rng = np.random.default_rng(20240603)
    cases = []

    def add(name, parts, threshold, minimum):
        scores = scores_of(np.concatenate([p[1] for p in parts]))
        labels = np.concatenate([np.asarray(p[2], dtype=np.int64) for p in parts])
        groups = np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts])
        order = rng.permutation(len(scores))
        scores, labels, groups = scores[order], labels[order], groups[order]
        cases.append(
            {
                "name": name,
                "threshold": threshold,
                "minimumGroupSize": minimum,
                "scores": scores.tolist(),
                "labels": labels.tolist(),
                "groups": groups.tolist(),
                "expected": fairness_expected(scores, labels, groups, threshold, minimum),
            }
        )

    def group(name, size, a, b, event_shift=0.0):
        risk = rng.beta(a, b, size)
        return (name, risk, rng.random(size) < np.clip(risk + event_shift, 0, 1))

    mixed = [
        group("A", 2000, 2, 5),
        group("B", 300, 3, 3, 0.1),
        ("C-negatives-only", rng.beta(2, 6, 60), np.zeros(60)),
        group("D", 35, 4, 2),
        group("E", 10, 2, 2),
        ("F-positives-only", rng.beta(5, 2, 40), np.ones(40)),
    ]
    add("mixed-sizes-default-minimum", mixed, 0.5, 30)
    add("mixed-sizes-minimum-5", mixed, 0.5, 5)
    add("three-clean-groups", [group("north", 400, 2, 4), group("south", 200, 3, 3), group("west", 100, 2, 2, -0.1)], 0.4, 30)
    add("one-group-left", [group("X", 100, 2, 3), group("Y", 20, 2, 3)], 0.5, 30)
    return cases


# ---------------------------------------------------------------- CBPE


def cbpe_expected(scores, threshold):
    n = len(scores)
    if n == 0:
        return None
    predicted = (scores >= threshold).astype(int)
    tp = float(np.mean(np.where(predicted == 1, scores, 0)) * n)
    fp = float(np.mean(np.where(predicted == 1, 1 - scores, 0)) * n)
    fn = float(np.mean(np.where(predicted == 0, scores, 0)) * n)
    tn = float(np.mean(np.where(predicted == 0, 1 - scores, 0)) * n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auroc = number(estimate_roc_auc(scores, scores))

    def unless_zero(denominator, value):
        return None if denominator == 0 else float(value)

    return {
        "expectedTruePositives": tp,
        "expectedFalsePositives": fp,
        "expectedTrueNegatives": tn,
        "expectedFalseNegatives": fn,
        "estimatedAuroc": auroc,
        "estimatedSensitivity": unless_zero(tp + fn, estimate_recall(predicted, scores)),
        "estimatedSpecificity": unless_zero(tn + fp, estimate_specificity(predicted, scores)),
        "estimatedPositivePredictiveValue": unless_zero(tp + fp, estimate_precision(predicted, scores)),
        "estimatedNegativePredictiveValue": unless_zero(tn + fn, tn / (tn + fn) if tn + fn else 0),
        "estimatedF1": unless_zero(tp + 0.5 * (fp + fn), estimate_f1(predicted, scores)),
        "estimatedAccuracy": float(estimate_accuracy(predicted, scores)),
    }


def cbpe_cases():
    rng = np.random.default_rng(20240604)
    cases = []

    def add(name, scores, threshold):
        scores = scores_of(scores)
        cases.append(
            {"name": name, "threshold": threshold, "scores": scores.tolist(), "expected": cbpe_expected(scores, threshold)}
        )

    add("calibrated-1000", rng.beta(2, 3, 1000), 0.5)
    add("ties-one-decimal-500", np.round(rng.beta(2, 2, 500), 1), 0.5)
    add("all-equal-scores-50", np.full(50, 0.3), 0.5)
    add("tiny-2", [0.3, 0.8], 0.5)
    add("single-row", [0.6], 0.5)
    add("scores-at-0-and-1", np.concatenate([np.zeros(20), np.ones(20), rng.random(60)]), 0.5)
    add("all-zero-scores", np.zeros(30), 0.5)
    add("all-one-scores", np.ones(30), 0.5)
    add("threshold-above-every-score", np.minimum(rng.beta(1, 5, 200), 0.9), 0.95)
    add("large-20k", rng.beta(1.3, 7, 20000), 0.2)
    add("empty", [], 0.5)
    return cases


def write(name, cases):
    fixture = {"versions": VERSIONS, "confidenceLevel": LEVEL, "cases": cases}
    path = OUTPUT_DIRECTORY / name
    path.write_text(json.dumps(fixture, allow_nan=False, separators=(",", ":")) + "\n")
    print(f"{path}: {path.stat().st_size} bytes, {len(cases)} cases")


def main():
    write("performance.json", performance_cases())
    write("calibration.json", calibration_cases())
    write("fairness.json", fairness_cases())
    write("cbpe.json", cbpe_cases())


if __name__ == "__main__":
    main()
