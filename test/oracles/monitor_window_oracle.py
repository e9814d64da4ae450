"""Three days of a ward-deterioration model's traffic and what scipy, scikit-learn, statsmodels and
fairlearn compute on each monitoring window of it, for the end-to-end test of the monitor
(test/integration/monitor-oracle.test.ts).

Writes test/fixtures/oracles/monitor-window.model.yaml (the specification the monitor reads) and
test/fixtures/oracles/monitor-window.json: the events, and per window and per stage the expected
value of every result row the monitor writes for it.

The traffic, from a fixed seed:
  - 2,000 predictions a day from 2026-03-02T00:00Z to 2026-03-05T00:00Z, each with four numeric
    features (heart_rate and age whole numbers, lactate to 2 decimals with 5% missing, creatinine
    to 3 decimals with 2% missing), one categorical (admission_source), the segments site (three
    sites) and sex, and a score to 6 decimals; every 97th score sits exactly on the decision
    threshold 0.3 or on a calibration bin edge (0.1, 0.7), so that "positive when score >= 0.3" and
    the bins' edges are exercised;
  - from 2026-03-04T00:00Z site-b's lactate analyser reads three times the true value: the model
    scores the reported value, the outcome follows the true one;
  - 92% of predictions get an outcome, a quarter of them within 15 min to 3 h, the rest within
    3 h to 22 h, always within the 1-day label horizon; 2% of those of the last day are corrected
    by a second outcome with the other label a few hours later (the latest wins); six outcomes name
    predictions that were never published.
The monitor sees the events in two bursts: first every prediction and the outcomes observed
before 2026-03-05T00:00Z (stage "first"), then the remaining outcomes together with a replay of
120 events already sent (stage "second"; a replay changes no number).

The baseline is the first day (monitoring.baseline.production), so the reference rows are exactly
the first day's predictions. Windows are 6 h and 1 d. Each window's expected rows are computed from
its own events, as the project's other oracles compute them:
  - drift and quality of each numeric feature and of the score, and of the categorical feature:
    numeric_expected and categorical_expected of drift_oracle.py (scipy.stats.ks_2samp with
    method="asymp", scipy.stats.wasserstein_distance, numpy quantile bins, chi2_contingency without
    correction); for the KS p-value also scipy's kstwo.sf at the statistic moved by a few offsets,
    since the monitor takes the statistic from its sketches within a stated bound;
  - performance at the decision threshold (scikit-learn's roc_auc_score, average_precision_score,
    brier_score_loss, log_loss, confusion_matrix; Wilson intervals from statsmodels), calibration
    (ECE over 10 bins of width 0.1, O/E, statsmodels GLM for the intercept and slope), and per
    segment the groups' selection rates and performance and fairlearn's differences, groups under
    min_group_size suppressed and a group without positives (negatives) left out of the true
    (false) positive rate difference, as performance_oracle.py does;
  - labels: coverage, numpy's linear quantiles of the delays, outcomes without a prediction;
  - volume: predictions per group against the baseline's share, scipy.stats.poisson.cdf.

Run with the oracle environment (numpy, scipy, scikit-learn, statsmodels, fairlearn):
    /root/.cache/vigil/oracle-venv/bin/python test/oracles/monitor_window_oracle.py
"""

import json
import math
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

import fairlearn
import numpy as np
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
)
from scipy import stats
from sklearn.metrics import average_precision_score, brier_score_loss, confusion_matrix, f1_score, log_loss, roc_auc_score
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, str(Path(__file__).resolve().parent))
from drift_oracle import categorical_expected, numeric_expected  # noqa: E402

OUTPUT_DIRECTORY = Path(__file__).resolve().parents[1] / "fixtures" / "oracles"
SEED = 20260302
HOUR = 3_600_000
DAY = 24 * HOUR
START = int(datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp() * 1000)
DAYS = 3
END = START + DAYS * DAY
SHIFT_FROM = START + 2 * DAY
CUT = END
PREDICTIONS_PER_DAY = 2000

MODEL_ID = "ward-deterioration"
MODEL_VERSION = "1.4.0"
NUMERIC = ["heart_rate", "lactate", "creatinine", "age"]
CATEGORICAL = ["admission_source"]
SCORE = "score"
SEGMENTS = ["site", "sex"]
SITES = ["site-a", "site-b", "site-c"]
SHIFTED_SITE = "site-b"
SHIFTED_FEATURE = "lactate"
THRESHOLD = 0.3
MIN_GROUP_SIZE = 30
FDR = 0.05
BINS = 10
KS_THRESHOLD = {"warn": 0.1, "alert": 0.2}
WINDOWS = {"6h": 6 * HOUR, "1d": DAY}
LABEL_HORIZON = DAY
MIN_WINDOW_SIZE = 100
MIN_LABEL_COVERAGE = 0.8
LEVEL = 0.95
LOGIT_CLIP = 1e-15
# Offsets of the KS statistic at which scipy's p-value is tabulated (see ksPValueBands).
KS_OFFSETS = [0.0, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
VOLUME_RULE = {"minimumBaselineShare": 0.05, "minimumExpected": 20, "alertBelowFractionOfExpected": 0.5}

SPEC = f"""# yaml-language-server: $schema=../../../schemas/model-spec.schema.json
# Written by test/oracles/monitor_window_oracle.py with monitor-window.json; edit the script, not this file.
model_id: {MODEL_ID}
model_version: {MODEL_VERSION}
score: {SCORE}
label: label
decision_threshold: {THRESHOLD}
min_group_size: {MIN_GROUP_SIZE}
features:
  - {{ name: heart_rate, type: numeric }}
  - {{ name: lactate, type: numeric }}
  - {{ name: creatinine, type: numeric }}
  - {{ name: age, type: numeric }}
  - {{ name: admission_source, type: categorical }}
segments: [site, sex]
drift:
  fdr: {FDR}
  bins: {BINS}
thresholds:
  ks: {{ warn: {KS_THRESHOLD["warn"]}, alert: {KS_THRESHOLD["alert"]} }}
  label_coverage: {{ warn: 0.8, alert: 0.5, direction: below }}
monitoring:
  windows: [6h, 1d]
  # The first day of traffic, so that every window is compared with the same reference rows.
  baseline:
    production: {{ from: "2026-03-02", to: "2026-03-03" }}
  label_horizon: 1d
  min_window_size: {MIN_WINDOW_SIZE}
  min_label_coverage: {MIN_LABEL_COVERAGE}
  max_groups_per_segment: 10
"""


def expit(x):
    return 1 / (1 + np.exp(-x))


def number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def wilson(successes, trials):
    if trials == 0:
        return None
    lower, upper = proportion_confint(successes, trials, alpha=1 - LEVEL, method="wilson")
    return {"value": successes / trials, "ci_low": float(lower), "ci_high": float(upper)}


# ---------------------------------------------------------------- traffic


def traffic():
    rng = np.random.default_rng(SEED)
    count = DAYS * PREDICTIONS_PER_DAY
    occurred = np.sort(START + rng.integers(0, DAYS * DAY, count))
    site = rng.choice(SITES, count, p=[0.4, 0.35, 0.25])
    sex = rng.choice(["F", "M"], count)
    heart_rate = np.round(rng.normal(88, 14, count), 0)
    true_lactate = np.round(rng.lognormal(0.3, 0.5, count), 2)
    creatinine = np.round(rng.gamma(4, 0.25, count), 3)
    age = rng.integers(18, 96, count).astype(float)
    admission = rng.choice(["ED", "ward", "ICU-transfer", "direct"], count, p=[0.45, 0.3, 0.1, 0.15])
    lactate_missing = rng.random(count) < 0.05
    creatinine_missing = rng.random(count) < 0.02

    shifted = (occurred >= SHIFT_FROM) & (site == SHIFTED_SITE)
    reported_lactate = np.where(shifted, np.round(true_lactate * 3, 2), true_lactate)

    def risk_logit(lactate):
        return -2.2 + 0.03 * (heart_rate - 88) + 0.9 * np.log(lactate) + 0.02 * (age - 60) + 0.4 * (creatinine - 1)

    true_risk = expit(risk_logit(true_lactate))
    # The model imputes a missing lactate with the population median.
    model_lactate = np.where(lactate_missing, 1.35, reported_lactate)
    score = np.round(np.clip(expit(risk_logit(model_lactate) + rng.normal(0, 0.35, count)), 0.001, 0.999), 6)
    on_edges = np.arange(count) % 97 == 0
    score[on_edges] = np.array([0.3, 0.1, 0.7])[np.arange(on_edges.sum()) % 3]
    label = (rng.random(count) < true_risk).astype(int)

    predictions = []
    for i in range(count):
        features = {
            "heart_rate": float(heart_rate[i]),
            "lactate": None if lactate_missing[i] else float(reported_lactate[i]),
            "creatinine": None if creatinine_missing[i] else float(creatinine[i]),
            "age": float(age[i]),
            "admission_source": str(admission[i]),
        }
        predictions.append(
            {
                "prediction_id": f"wd-{i:05d}",
                "occurred_at": int(occurred[i]),
                "features": features,
                "score": float(score[i]),
                "segments": {"site": str(site[i]), "sex": str(sex[i])},
            }
        )

    outcomes = []
    gets_outcome = rng.random(count) < 0.92
    fast = rng.random(count) < 0.25
    delay = np.where(fast, rng.uniform(0.25, 3, count), rng.uniform(3, 22, count)) * HOUR
    corrected = (rng.random(count) < 0.02) & (occurred >= START + 2 * DAY)
    correction_after = rng.uniform(1, 6, count) * HOUR
    for i in np.flatnonzero(gets_outcome):
        observed = int(occurred[i] + round(delay[i]))
        outcomes.append({"event_id": f"wd-o-{i:05d}", "prediction_id": f"wd-{i:05d}", "observed_at": observed, "label": int(label[i])})
        later = int(observed + round(correction_after[i]))
        if corrected[i] and later - occurred[i] < LABEL_HORIZON - HOUR:
            outcomes.append({"event_id": f"wd-o-{i:05d}-c", "prediction_id": f"wd-{i:05d}", "observed_at": later, "label": 1 - int(label[i])})
    for k, at in enumerate(np.sort(START + HOUR + rng.integers(0, DAYS * DAY - 2 * HOUR, 6))):
        outcomes.append({"event_id": f"wd-o-orphan-{k}", "prediction_id": f"wd-orphan-{k}", "observed_at": int(at), "label": int(k % 2)})
    outcomes.sort(key=lambda outcome: (outcome["observed_at"], outcome["event_id"]))

    # Replayed in the second burst: predictions of the first and last day, outcomes already sent.
    replay_predictions = sorted(int(i) for i in rng.choice(count, 60, replace=False))
    first_burst = [outcome["event_id"] for outcome in outcomes if outcome["observed_at"] < CUT]
    replay_outcomes = sorted(str(first_burst[int(i)]) for i in rng.choice(len(first_burst), 60, replace=False))
    return predictions, outcomes, {"predictions": [predictions[i]["prediction_id"] for i in replay_predictions], "outcomes": replay_outcomes}


# ---------------------------------------------------------------- one window's rows


def row_key(kind, metric, feature=None, segment=None, group=None):
    return "|".join([kind, metric, feature or "", segment or "", group or ""])


class Rows:
    def __init__(self):
        self.rows = {}

    def add(self, kind, metric, value, feature=None, segment=None, group=None, **extra):
        key = row_key(kind, metric, feature, segment, group)
        assert key not in self.rows, key
        self.rows[key] = {"value": number(value), **{name: (number(v) if isinstance(v, (float, np.floating)) else v) for name, v in extra.items()}}

    def proportion(self, kind, metric, estimate, segment=None, group=None, **extra):
        if estimate is None:
            self.add(kind, metric, None, segment=segment, group=group, **extra)
        else:
            self.add(kind, metric, estimate["value"], segment=segment, group=group, ci_low=estimate["ci_low"], ci_high=estimate["ci_high"], **extra)


def ks_bands(statistic, reference_count, current_count):
    larger, smaller = max(reference_count, current_count), min(reference_count, current_count)
    effective = float(np.round(larger * smaller / (larger + smaller)))
    bands = []
    for offset in KS_OFFSETS:
        low = float(stats.kstwo.sf(min(1.0, statistic + offset), effective))
        high = float(stats.kstwo.sf(max(0.0, statistic - offset), effective))
        bands.append([offset, low, high])
    return bands


def drift_rows(rows, reference, current):
    tests = []
    for name in NUMERIC + [SCORE]:
        ref_values = [p["score"] if name == SCORE else p["features"][name] for p in reference]
        cur_values = [p["score"] if name == SCORE else p["features"][name] for p in current]
        expected = numeric_expected(ref_values, cur_values, BINS)
        ref_present = [v for v in ref_values if v is not None]
        cur_present = [v for v in cur_values if v is not None]
        counts = {"n_reference": len(ref_present), "n_current": len(cur_present)}
        ks = expected["ks"]
        rows.add("drift", "ks", ks["statistic"], feature=name, p_value=ks["pValue"], ksPValueBands=ks_bands(ks["statistic"], len(ref_present), len(cur_present)), **counts)
        tests.append((name, ks["statistic"], ks["pValue"]))
        rows.add("drift", "wasserstein", expected["wasserstein"], feature=name, **counts)
        rows.add("drift", "wasserstein_norm", expected["normalizedWasserstein"], feature=name, **counts)
        rows.add("drift", "psi", expected["populationStabilityIndex"], feature=name, **counts)
        rows.add("drift", "jensen_shannon", expected["jensenShannonDistance"], feature=name, **counts)
        rows.add("drift", "kl", expected["klDivergence"], feature=name, **counts)
        rows.add("drift", "hellinger", expected["hellingerDistance"], feature=name, **counts)
        entries = {"n_reference": len(ref_values), "n_current": len(cur_values)}
        rows.add("quality", "missing_share", (len(cur_values) - len(cur_present)) / len(cur_values), feature=name, **entries)
        outside = sum(1 for v in cur_present if v < min(ref_present) or v > max(ref_present))
        rows.add("quality", "out_of_range_share", outside / len(cur_present), feature=name, **entries)
    for name in CATEGORICAL:
        ref_values = [p["features"][name] for p in reference]
        cur_values = [p["features"][name] for p in current]
        expected = categorical_expected(ref_values, cur_values)
        counts = {"n_reference": len(ref_values), "n_current": len(cur_values)}
        rows.add("drift", "psi", expected["populationStabilityIndex"], feature=name, **counts)
        chi = expected["chiSquare"]
        rows.add("drift", "chi_square", chi["statistic"], feature=name, p_value=chi["pValue"], **counts)
        tests.append((name, chi["statistic"], chi["pValue"]))
        rows.add("drift", "jensen_shannon", expected["jensenShannonDistance"], feature=name, **counts)
        rows.add("drift", "l_infinity", expected["maxProportionDifference"], feature=name, **counts)
        rows.add("drift", "unseen_share", expected["unseenCategoryShare"], feature=name, **counts)
        rows.add("quality", "missing_share", sum(v is None for v in cur_values) / len(cur_values), feature=name, **counts)
    # The tests decided together, as the monitor does: significant after Benjamini-Hochberg, and for
    # KS also beyond the spec's bound on the statistic.
    rejected, adjusted, _, _ = multipletests([p for _, _, p in tests], alpha=FDR, method="fdr_bh")
    decisions = {}
    for (name, statistic, _), significant, p in zip(tests, rejected, adjusted):
        status = "ok"
        if significant:
            status = "alert" if name in CATEGORICAL else ("alert" if statistic > KS_THRESHOLD["alert"] else "warn" if statistic > KS_THRESHOLD["warn"] else "ok")
        decisions[name] = {"significant": bool(significant), "adjustedPValue": float(p), "status": status}
    return decisions


def performance(rows, scores, labels, segment=None, group=None, kind="performance"):
    n = len(scores)
    predicted = (scores >= THRESHOLD).astype(int)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(labels, predicted, labels=[0, 1]).ravel())
    positives, negatives = tp + fn, tn + fp
    scope = {"segment": segment, "group": group, "n_current": n}
    both = positives > 0 and negatives > 0
    rows.add(kind, "auroc", roc_auc_score(labels, scores) if both else None, **scope)
    rows.add(kind, "average_precision", average_precision_score(labels, scores) if positives > 0 else None, **scope)
    rows.add(kind, "brier", brier_score_loss(labels, scores, labels=[0, 1]), **scope)
    rows.add(kind, "log_loss", log_loss(labels, scores, labels=[0, 1]), **scope)
    rows.proportion(kind, "sensitivity", wilson(tp, positives), **scope)
    rows.proportion(kind, "specificity", wilson(tn, negatives), **scope)
    rows.proportion(kind, "ppv", wilson(tp, tp + fp), **scope)
    rows.proportion(kind, "npv", wilson(tn, tn + fn), **scope)
    rows.add(kind, "f1", f1_score(labels, predicted) if 2 * tp + fp + fn > 0 else None, **scope)
    rows.proportion(kind, "accuracy", wilson(tp + tn, n), **scope)
    rows.proportion(kind, "prevalence", wilson(positives, n), **scope)
    return {"positives": positives, "negatives": negatives, "truePositives": tp, "falsePositives": fp}


def glm(labels, exog, offset):
    # IRLS to 1e-14 as performance_oracle.py; where rounding keeps it from that, 1e-10 is far inside
    # the 0.002 the intercept and slope are held to.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tolerance in (1e-14, 1e-10):
            fit = sm.GLM(labels, exog, family=sm.families.Binomial(), offset=offset).fit(tol=tolerance, maxiter=500)
            if fit.converged:
                return fit
    raise AssertionError("the logistic fit did not converge")


def calibration(rows, scores, labels):
    n = len(scores)
    edges = np.arange(11) / 10
    bins = np.minimum(np.searchsorted(edges, scores, side="right") - 1, 9)
    ece = 0.0
    for k in range(10):
        inside = bins == k
        if inside.any():
            ece += inside.sum() / n * abs(scores[inside].mean() - labels[inside].mean())
    clipped = np.clip(scores, LOGIT_CLIP, 1 - LOGIT_CLIP)
    logits = np.log(clipped) - np.log1p(-clipped)
    intercept = glm(labels, np.ones((n, 1)), logits)
    slope = glm(labels, np.column_stack([np.ones(n), logits]), None)
    scope = {"n_current": n}
    rows.add("calibration", "ece", ece, **scope)
    rows.add("calibration", "calibration_intercept", intercept.params[0], **scope)
    rows.add("calibration", "calibration_slope", slope.params[1], **scope)
    rows.add("calibration", "oe_ratio", labels.sum() / scores.sum(), **scope)


def fairness(rows, scores, labels, groups, segment):
    predicted = (scores >= THRESHOLD).astype(int)
    kept = []
    for name in sorted(set(groups.tolist())):
        inside = groups == name
        size = int(inside.sum())
        if size < MIN_GROUP_SIZE:
            rows.add("fairness", "selection_rate", None, segment=segment, group=name, n_current=size)
            continue
        kept.append(name)
        rows.proportion("fairness", "selection_rate", wilson(int(predicted[inside].sum()), size), segment=segment, group=name, n_current=size)
        performance(rows, scores[inside], labels[inside], segment=segment, group=name)
    with_positives = [g for g in kept if labels[groups == g].sum() > 0]
    with_negatives = [g for g in kept if (1 - labels[groups == g]).sum() > 0]
    dpd = eod = fprd = None
    if len(kept) >= 2:
        inside = np.isin(groups, kept)
        dpd = demographic_parity_difference(labels[inside], predicted[inside], sensitive_features=groups[inside])
    if len(with_positives) >= 2:
        inside = np.isin(groups, with_positives)
        eod = equal_opportunity_difference(labels[inside], predicted[inside], sensitive_features=groups[inside])
    if len(with_negatives) >= 2:
        inside = np.isin(groups, with_negatives)
        fprd = MetricFrame(metrics=false_positive_rate, y_true=labels[inside], y_pred=predicted[inside], sensitive_features=groups[inside]).difference()
    equalized = max(eod, fprd) if eod is not None and fprd is not None else None
    if equalized is not None and len(with_positives) == len(with_negatives) == len(kept):
        inside = np.isin(groups, kept)
        assert equalized_odds_difference(labels[inside], predicted[inside], sensitive_features=groups[inside]) == equalized
    rows.add("fairness", "demographic_parity_difference", dpd, segment=segment)
    rows.add("fairness", "equal_opportunity_difference", eod, segment=segment)
    rows.add("fairness", "equalized_odds_difference", equalized, segment=segment)


def latest_outcomes(outcomes, predictions_by_id):
    """Each prediction's latest outcome by (observed_at, event_id), as the monitor joins them."""
    latest = {}
    for outcome in outcomes:
        if outcome["prediction_id"] not in predictions_by_id:
            continue
        previous = latest.get(outcome["prediction_id"])
        if previous is None or (outcome["observed_at"], outcome["event_id"]) > (previous["observed_at"], previous["event_id"]):
            latest[outcome["prediction_id"]] = outcome
    return latest


def window_rows(reference, current, outcomes, predictions_by_id, start, end):
    rows = Rows()
    decisions = drift_rows(rows, reference, current)

    latest = latest_outcomes(outcomes, predictions_by_id)
    labelled = [(p, latest[p["prediction_id"]]) for p in current if p["prediction_id"] in latest]
    scores = np.array([p["score"] for p, _ in labelled], dtype=np.float64)
    labels = np.array([o["label"] for _, o in labelled], dtype=np.int64)
    assert len(labelled) > 0, "every window has outcomes at every stage"
    performance(rows, scores, labels)
    calibration(rows, scores, labels)
    for segment in SEGMENTS:
        groups = np.array([p["segments"][segment] for p, _ in labelled], dtype=object)
        fairness(rows, scores, labels, groups, segment)

    delays = np.array([(o["observed_at"] - p["occurred_at"]) / 1000 for p, o in labelled], dtype=np.float64)
    rows.add("labels", "label_coverage", len(labelled) / len(current), n_current=len(current))
    rows.add("labels", "label_delay_median_seconds", np.quantile(delays, 0.5), n_current=len(labelled))
    rows.add("labels", "label_delay_p90_seconds", np.quantile(delays, 0.9), n_current=len(labelled))
    unmatched = sum(1 for o in outcomes if o["prediction_id"] not in predictions_by_id and start <= o["observed_at"] < end)
    rows.add("labels", "unmatched_outcomes", unmatched)

    for segment in SEGMENTS:
        baseline_counts = {}
        for p in reference:
            baseline_counts[p["segments"][segment]] = baseline_counts.get(p["segments"][segment], 0) + 1
        window_counts = {}
        for p in current:
            window_counts[p["segments"][segment]] = window_counts.get(p["segments"][segment], 0) + 1
        total = sum(baseline_counts.values())
        for group in sorted(set(baseline_counts) | set(window_counts)):
            share = baseline_counts.get(group, 0) / total
            expected = share * len(current)
            observed = window_counts.get(group, 0)
            judged = share >= VOLUME_RULE["minimumBaselineShare"] and expected >= VOLUME_RULE["minimumExpected"]
            rows.add(
                "volume",
                "predictions",
                observed,
                segment=segment,
                group=group,
                n_current=observed,
                expectedCount=expected,
                p_value=float(stats.poisson.cdf(observed, expected)) if judged else None,
                threshold=VOLUME_RULE["alertBelowFractionOfExpected"] * expected if judged else None,
            )
    return rows.rows, decisions, {"predictions": len(current), "outcomes": len(labelled)}


# ---------------------------------------------------------------- fixture

PREDICTION_COLUMNS = ["prediction_id", "occurred_at", "score", *SEGMENTS, *NUMERIC, *CATEGORICAL]
OUTCOME_COLUMNS = ["event_id", "prediction_id", "observed_at", "label"]


def prediction_tuple(prediction):
    values = {**prediction["features"], **prediction["segments"], "prediction_id": prediction["prediction_id"], "occurred_at": prediction["occurred_at"], "score": prediction["score"]}
    return [values[column] for column in PREDICTION_COLUMNS]



def main():
    predictions, outcomes, replays = traffic()
    predictions_by_id = {p["prediction_id"]: p for p in predictions}
    reference = [p for p in predictions if START <= p["occurred_at"] < START + DAY]
    watermark = max(p["occurred_at"] for p in predictions)
    stages = {"first": [o for o in outcomes if o["observed_at"] < CUT], "second": outcomes}

    windows = []
    for size_name, size in WINDOWS.items():
        for start in range(START, END, size):
            end = start + size
            current = [p for p in predictions if start <= p["occurred_at"] < end]
            assert len(current) >= MIN_WINDOW_SIZE
            state = "final" if watermark >= end + LABEL_HORIZON else "provisional"
            window = {"size": size_name, "start": start, "end": end, "state": state, "shifted": start >= SHIFT_FROM, "stages": {}}
            for stage, stage_outcomes in stages.items():
                rows, decisions, counts = window_rows(reference, current, stage_outcomes, predictions_by_id, start, end)
                window["stages"][stage] = {**counts, "driftDecisions": decisions, "rows": rows}
            # A final window has all its outcomes before the cut: the label horizon bounds every delay.
            if state == "final":
                assert window["stages"]["first"] == window["stages"]["second"], (size_name, start)
            decision = window["stages"]["second"]["driftDecisions"][SHIFTED_FEATURE]
            assert (decision["status"] != "ok") == window["shifted"], (size_name, start, decision)
            windows.append(window)

    grown = [w for w in windows if w["stages"]["second"]["outcomes"] > w["stages"]["first"]["outcomes"]]
    assert grown, "some window gains outcomes in the second burst"

    fixture = {
        "generator": "test/oracles/monitor_window_oracle.py",
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "statsmodels": statsmodels.__version__,
            "fairlearn": fairlearn.__version__,
        },
        "seed": SEED,
        "modelId": MODEL_ID,
        "modelVersion": MODEL_VERSION,
        "spec": "monitor-window.model.yaml",
        "start": START,
        "end": END,
        "shiftFrom": SHIFT_FROM,
        "shiftedSite": SHIFTED_SITE,
        "shiftedFeature": SHIFTED_FEATURE,
        "cut": CUT,
        "watermark": watermark,
        "labelHorizonMs": LABEL_HORIZON,
        "baseline": {"from": START, "to": START + DAY, "rows": len(reference)},
        # One array per event, in the order the column lists give, to keep the file small.
        "predictionColumns": PREDICTION_COLUMNS,
        "predictions": [prediction_tuple(p) for p in predictions],
        "outcomeColumns": OUTCOME_COLUMNS,
        "outcomes": [[o[column] for column in OUTCOME_COLUMNS] for o in outcomes],
        "replays": replays,
        "windows": windows,
    }
    OUTPUT_DIRECTORY.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIRECTORY / "monitor-window.model.yaml").write_text(SPEC)
    path = OUTPUT_DIRECTORY / "monitor-window.json"
    path.write_text(json.dumps(fixture, allow_nan=False, separators=(",", ":")) + "\n")
    print(f"{path}: {path.stat().st_size} bytes, {len(predictions)} predictions, {len(outcomes)} outcomes, {len(windows)} windows")


if __name__ == "__main__":
    main()
