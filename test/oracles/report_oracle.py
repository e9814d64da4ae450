"""Writes a dataset Vigil never generated itself, and what scipy, scikit-learn, statsmodels and
fairlearn compute on it, for the end-to-end test of `vigil report`.

usage: python report_oracle.py   (writes test/fixtures/report/)
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats as stats
import statsmodels.api as sm
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "report"
THRESHOLD = 0.3
NUMERIC = ["heart_rate", "lactate", "creatinine", "age"]
CATEGORICAL = ["admission_source"]
SEGMENTS = ["sex", "site"]


def cohort(rng: np.random.Generator, rows: int, shift: float) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "heart_rate": np.round(rng.normal(88 + 6 * shift, 14, rows), 0),
            "lactate": np.round(rng.lognormal(0.3 + 0.4 * shift, 0.5, rows), 2),
            "creatinine": np.round(rng.gamma(4, 0.25, rows), 2),
            "age": rng.integers(18, 95, rows).astype(float),
            "admission_source": rng.choice(["ED", "ward", "ICU-transfer", "direct"][: 3 + (shift > 0)], rows),
            "sex": rng.choice(["F", "M"], rows),
            "site": rng.choice(["north", "south", "tiny"], rows, p=[0.55, 0.44, 0.01]),
        }
    )
    logit = -2.4 + 0.025 * (frame.heart_rate - 88) + 0.9 * np.log(frame.lactate) + 0.02 * (frame.age - 60)
    risk = 1 / (1 + np.exp(-logit))
    frame["score"] = np.round(np.clip(risk * rng.uniform(0.8, 1.25, rows), 0, 1), 4)
    frame["label"] = (rng.uniform(0, 1, rows) < risk).astype(int)
    for column, share in (("lactate", 0.06), ("creatinine", 0.02)):
        frame.loc[rng.uniform(0, 1, rows) < share, column] = np.nan
    return frame


def main() -> None:
    rng = np.random.default_rng(20261123)
    reference, current = cohort(rng, 3000, 0.0), cohort(rng, 2500, 1.0)
    OUT.mkdir(parents=True, exist_ok=True)
    reference.to_csv(OUT / "reference.csv", index=False, na_rep="")
    current.to_csv(OUT / "current.csv", index=False, na_rep="")

    expected = []

    def add(kind, metric, value, feature=None, segment=None, group=None, p_value=None):
        expected.append({"kind": kind, "metric": metric, "feature": feature, "segment": segment, "group": group, "value": float(value), "p_value": None if p_value is None else float(p_value)})

    for feature in NUMERIC + ["score"]:
        ref, cur = reference[feature].dropna().to_numpy(), current[feature].dropna().to_numpy()
        ks = stats.ks_2samp(ref, cur, method="asymp")
        add("drift", "ks", ks.statistic, feature=feature, p_value=ks.pvalue)
        add("drift", "wasserstein", stats.wasserstein_distance(ref, cur), feature=feature)
        add("quality", "missing_share", current[feature].isna().mean(), feature=feature)
    for feature in CATEGORICAL:
        categories = sorted(set(reference[feature]) | set(current[feature]))
        table = np.array([[int((side[feature] == category).sum()) for category in categories] for side in (reference, current)])
        chi = stats.chi2_contingency(table, correction=False)
        add("drift", "chi_square", chi.statistic, feature=feature, p_value=chi.pvalue)

    scores, labels = current.score.to_numpy(), current.label.to_numpy()
    predicted = (scores >= THRESHOLD).astype(int)
    add("performance", "auroc", roc_auc_score(labels, scores))
    add("performance", "average_precision", average_precision_score(labels, scores))
    add("performance", "brier", brier_score_loss(labels, scores))
    add("performance", "log_loss", log_loss(labels, scores))
    true_positive = int(((predicted == 1) & (labels == 1)).sum())
    add("performance", "sensitivity", true_positive / int(labels.sum()))
    add("performance", "ppv", true_positive / int(predicted.sum()))
    add("performance", "prevalence", labels.mean())

    logits = np.log(np.clip(scores, 1e-15, 1 - 1e-15) / (1 - np.clip(scores, 1e-15, 1 - 1e-15)))
    slope = sm.GLM(labels, sm.add_constant(logits), family=sm.families.Binomial()).fit()
    add("calibration", "calibration_slope", slope.params[1])
    intercept = sm.GLM(labels, np.ones((len(labels), 1)), family=sm.families.Binomial(), offset=logits).fit()
    add("calibration", "calibration_intercept", intercept.params[0])

    for segment in SEGMENTS:
        # Groups under the spec's min_group_size (30) are suppressed by Vigil; fairlearn sees the rest.
        kept = current[segment].map(current[segment].value_counts()) >= 30
        add("fairness", "demographic_parity_difference", demographic_parity_difference(labels[kept], predicted[kept], sensitive_features=current[segment][kept]), segment=segment)
        add("fairness", "equalized_odds_difference", equalized_odds_difference(labels[kept], predicted[kept], sensitive_features=current[segment][kept]), segment=segment)

    (OUT / "expected.json").write_text(json.dumps({"threshold": THRESHOLD, "rows": expected}, indent=1) + "\n")


if __name__ == "__main__":
    main()
