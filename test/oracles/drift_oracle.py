"""Reference values for the drift, quality and multiple-testing metrics.

Writes test/fixtures/oracles/drift.json: the raw inputs of every case and what scipy, numpy and
statsmodels compute for them. The TypeScript tests recompute from the stored inputs.

Run with the oracle environment (scipy, numpy, statsmodels):
    /root/.cache/vigil/oracle-venv/bin/python test/oracles/drift_oracle.py

The binned metrics are written here independently, in numpy, from the definition documented in
services/core/metrics/binning.ts:
  - inner edges: numpy.quantile (default 'linear' method) of the non-missing reference values at
    k/B, k = 1 .. B-1, duplicates collapsed;
  - right-closed bins, open outer bins: (-inf, e1], (e1, e2], ..., (ek, +inf);
  - floored proportions: max(count/n, 1e-4), renormalised to sum to 1, used by PSI and KL;
    Jensen-Shannon and Hellinger use the raw proportions count/n;
  - PSI = sum (cur - ref) * ln(cur / ref); KL = KL(current || reference) in nats;
  - normalised Wasserstein = W1 / numpy.std(reference) (ddof = 0), undefined for a constant reference.
Missing values (None) are dropped before every drift metric.
"""

import json
import math
from pathlib import Path

import numpy as np
import scipy
import statsmodels
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.special import smirnov
from statsmodels.stats.multitest import multipletests

FLOOR = 1e-4
OUTPUT = Path(__file__).resolve().parents[1] / "fixtures" / "oracles" / "drift.json"


def present(values):
    return np.array([v for v in values if v is not None], dtype=np.float64)


def finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------- numeric drift


def bin_edges(reference, bin_count):
    probabilities = np.arange(1, bin_count) / bin_count
    return np.unique(np.quantile(reference, probabilities))


def bin_counts(values, edges):
    # number of edges strictly below a value = index of its right-closed bin
    return np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)


def floored(counts):
    shares = np.maximum(counts / counts.sum(), FLOOR)
    return shares / shares.sum()


def numeric_expected(reference_values, current_values, bin_count):
    reference = present(reference_values)
    current = present(current_values)
    if reference.size == 0 or current.size == 0:
        edges = bin_edges(reference, bin_count).tolist() if reference.size else None
        return {"undefined": True, "binEdges": edges}

    with np.errstate(divide="ignore"):
        # one value on each side: m*n/(m+n) rounds to 0 and scipy's p-value is nan
        ks = stats.ks_2samp(reference, current, method="asymp")
    larger, smaller = max(reference.size, current.size), min(reference.size, current.size)
    effective = float(np.round(larger * smaller / (larger + smaller)))
    ks_expected = (
        None
        if math.isnan(ks.pvalue)
        else {"statistic": float(ks.statistic), "pValue": float(ks.pvalue), "effectiveSampleSize": effective}
    )

    wasserstein = stats.wasserstein_distance(reference, current)
    constant = reference.min() == reference.max()
    normalized = None if constant else wasserstein / np.std(reference)

    edges = bin_edges(reference, bin_count)
    reference_counts = bin_counts(reference, edges)
    current_counts = bin_counts(current, edges)
    reference_floored = floored(reference_counts)
    current_floored = floored(current_counts)
    reference_raw = reference_counts / reference_counts.sum()
    current_raw = current_counts / current_counts.sum()

    return {
        "undefined": False,
        "ks": ks_expected,
        "wasserstein": float(wasserstein),
        "normalizedWasserstein": None if normalized is None else float(normalized),
        "binEdges": edges.tolist(),
        "referenceBinCounts": reference_counts.tolist(),
        "currentBinCounts": current_counts.tolist(),
        "populationStabilityIndex": float(np.sum((current_floored - reference_floored) * np.log(current_floored / reference_floored))),
        "jensenShannonDistance": float(jensenshannon(reference_counts, current_counts, base=2)),
        "klDivergence": float(stats.entropy(current_floored, reference_floored)),
        "hellingerDistance": float(np.sqrt(0.5 * np.sum((np.sqrt(reference_raw) - np.sqrt(current_raw)) ** 2))),
    }


def rounded(values, decimals):
    return [float(v) for v in np.round(values, decimals)]


def with_missing(rng, values, share):
    return [None if rng.random() < share else v for v in values]


def numeric_cases():
    rng = np.random.default_rng(20240611)
    cases = []

    def add(name, reference, current, bin_count=10):
        cases.append(
            {
                "name": name,
                "reference": reference,
                "current": current,
                "binCount": bin_count,
                "expected": numeric_expected(reference, current, bin_count),
            }
        )

    add("normal, same distribution", rounded(rng.normal(0, 1, 1000), 6), rounded(rng.normal(0, 1, 1200), 6))
    add("normal, mean shift 0.3", rounded(rng.normal(0, 1, 1000), 6), rounded(rng.normal(0.3, 1, 800), 6))
    add("normal, scale doubled", rounded(rng.normal(0, 1, 900), 6), rounded(rng.normal(0, 2, 900), 6))
    add("poisson counts, heavy ties", rng.poisson(2, 500).astype(float).tolist(), rng.poisson(2.5, 700).astype(float).tolist())
    zero_reference = np.where(rng.random(2000) < 0.7, 0.0, rng.exponential(3, 2000))
    zero_current = np.where(rng.random(1500) < 0.5, 0.0, rng.exponential(3, 1500))
    add("zero-inflated, collapsed edges", rounded(zero_reference, 4), rounded(zero_current, 4))
    add("lognormal, heavily skewed", rounded(rng.lognormal(0, 2, 3000), 6), rounded(rng.lognormal(0.2, 2, 2500), 6))
    add("constant reference", [3.0] * 100, rounded(rng.normal(3, 1, 50), 6))
    add("constant, identical sides", [1.5] * 40, [1.5] * 60)
    add("constant, different sides", [0.0] * 30, [1.0] * 20)
    identical = rounded(rng.normal(10, 3, 300), 5)
    add("identical samples", identical, list(identical))
    add("disjoint supports", rounded(rng.uniform(0, 1, 200), 6), rounded(rng.uniform(2, 3, 150), 6))
    add("one value each", [0.5], [1.5])
    add("one value against five", [0.0], [0.1, -0.2, 0.3, 0.4, -0.5])
    add("two values each", [1.0, 2.0], [1.5, 3.0])
    add("five values each (effective size 2.5 rounds to 2)", [0.1, 0.5, 0.9, 1.3, 1.7], [0.4, 0.8, 1.2, 1.6, 2.0])
    add("two against three", [-1.0, 1.0], [0.0, 2.0, 4.0])
    add("two against ten", [5.0, 6.0], rounded(rng.normal(0, 1, 10), 6))
    add("small samples, Durbin region", rounded(rng.normal(0, 1, 60), 6), rounded(rng.normal(0.1, 1, 90), 6))
    add("small samples, Pomeranz region", rounded(rng.normal(0, 1, 100), 6), rounded(rng.normal(0.35, 1, 150), 6))
    add("small samples, one-sided tail region", rounded(rng.normal(0, 1, 100), 6), rounded(rng.normal(1.2, 1, 150), 6))
    add("medium samples, Pelz-Good region", rounded(rng.normal(0, 1, 400), 6), rounded(rng.normal(0.05, 1, 500), 6))
    add("medium samples, clear shift", rounded(rng.normal(0, 1, 400), 6), rounded(rng.normal(0.5, 1, 500), 6))
    add(
        "with missing values",
        with_missing(rng, rounded(rng.normal(0, 1, 400), 6), 0.1),
        with_missing(rng, rounded(rng.normal(0.2, 1.1, 300), 6), 0.3),
    )
    add("all current values missing", rounded(rng.normal(0, 1, 50), 6), [None] * 20)
    add("empty reference", [], rounded(rng.normal(0, 1, 20), 6))
    add("negative values and signed zero", [-0.0, 0.0, -1.5, -2.5, 3.0, -0.0, 1.0, -4.0], [0.0, -0.0, -1.5, 2.0, -3.0])
    add("five bins", rounded(rng.gamma(2, 2, 700), 5), rounded(rng.gamma(2.5, 2, 600), 5), bin_count=5)
    add("twenty bins", rounded(rng.gamma(2, 2, 700), 5), rounded(rng.gamma(2, 2.2, 600), 5), bin_count=20)
    add("large samples, small shift", rounded(rng.normal(0, 1, 20000), 4), rounded(rng.normal(0.03, 1, 20000), 4))
    add("large against small", rounded(rng.normal(0, 1, 5000), 4), rounded(rng.normal(0, 1, 40), 4))
    return cases


# ---------------------------------------------------------------- categorical drift


def categorical_expected(reference_values, current_values):
    reference = [v for v in reference_values if v is not None]
    current = [v for v in current_values if v is not None]
    if not reference or not current:
        return {"undefined": True}
    categories = sorted(set(reference) | set(current))
    reference_counts = np.array([reference.count(c) for c in categories], dtype=float)
    current_counts = np.array([current.count(c) for c in categories], dtype=float)
    reference_floored = floored(reference_counts)
    current_floored = floored(current_counts)
    result = stats.chi2_contingency(np.vstack([reference_counts, current_counts]), correction=False)
    unseen = sum(count for category, count in zip(categories, current_counts) if category not in set(reference))
    return {
        "undefined": False,
        "populationStabilityIndex": float(np.sum((current_floored - reference_floored) * np.log(current_floored / reference_floored))),
        "chiSquare": {
            "statistic": float(result.statistic),
            "pValue": float(result.pvalue),
            "degreesOfFreedom": int(result.dof),
        },
        "jensenShannonDistance": float(jensenshannon(reference_counts, current_counts, base=2)),
        "maxProportionDifference": float(np.max(np.abs(reference_counts / reference_counts.sum() - current_counts / current_counts.sum()))),
        "unseenCategoryShare": float(unseen / current_counts.sum()),
    }


def categorical_cases():
    rng = np.random.default_rng(7)
    cases = []

    def add(name, reference, current):
        cases.append({"name": name, "reference": reference, "current": current, "expected": categorical_expected(reference, current)})

    def draw(labels, probabilities, size):
        return [str(label) for label in rng.choice(labels, size=size, p=probabilities)]

    labels = ["A", "B", "C", "D"]
    add("same distribution", draw(labels, [0.4, 0.3, 0.2, 0.1], 1000), draw(labels, [0.4, 0.3, 0.2, 0.1], 800))
    add("shifted distribution", draw(labels, [0.4, 0.3, 0.2, 0.1], 1000), draw(labels, [0.25, 0.25, 0.25, 0.25], 900))
    add("category only in current", draw(["A", "B"], [0.5, 0.5], 300), draw(["A", "B", "NEW"], [0.45, 0.45, 0.1], 300))
    add("category only in reference", draw(["A", "B", "OLD"], [0.4, 0.4, 0.2], 400), draw(["A", "B"], [0.5, 0.5], 250))
    add("single category on both sides", ["only"] * 30, ["only"] * 12)
    add("disjoint categories", draw(["x", "y"], [0.5, 0.5], 500), draw(["p", "q", "r"], [0.3, 0.3, 0.4], 400))
    add(
        "with missing values",
        with_missing(rng, draw(labels, [0.25, 0.25, 0.25, 0.25], 500), 0.2),
        with_missing(rng, draw(labels, [0.1, 0.2, 0.3, 0.4], 500), 0.05),
    )
    add("all current values missing", draw(labels, [0.25, 0.25, 0.25, 0.25], 50), [None] * 10)
    add("empty reference", [], draw(labels, [0.25, 0.25, 0.25, 0.25], 10))
    zipf_labels = [f"code-{i:03d}" for i in range(200)]
    zipf_weights = 1 / np.arange(1, 201) ** 1.1
    zipf_weights /= zipf_weights.sum()
    add("200 categories, Zipf-like", draw(zipf_labels, zipf_weights, 5000), draw(zipf_labels, np.roll(zipf_weights, 3), 4000))
    add("tiny samples", ["a"], ["b", "a"])
    rare = [0.98, 0.01995, 0.00005]
    add("rare category below the floor", draw(["common", "uncommon", "rare"], rare, 20000), draw(["common", "uncommon", "rare"], rare, 20000))
    return cases


# ---------------------------------------------------------------- quality


def quality_cases():
    rng = np.random.default_rng(99)
    cases = []

    def add_numeric(name, reference, current):
        ref_present = present(reference)
        cur_present = present(current)
        expected = {
            "referenceMissingShare": None if not reference else (len(reference) - ref_present.size) / len(reference),
            "currentMissingShare": None if not current else (len(current) - cur_present.size) / len(current),
        }
        if expected["referenceMissingShare"] is None or expected["currentMissingShare"] is None:
            expected["missingShareChange"] = None
        else:
            expected["missingShareChange"] = expected["currentMissingShare"] - expected["referenceMissingShare"]
        if ref_present.size == 0 or cur_present.size == 0:
            expected["outOfRangeShare"] = None
        else:
            outside = np.sum((cur_present < ref_present.min()) | (cur_present > ref_present.max()))
            expected["outOfRangeShare"] = float(outside / cur_present.size)
        cases.append({"kind": "numeric", "name": name, "reference": reference, "current": current, "expected": expected})

    add_numeric("no missing, some out of range", rounded(rng.normal(0, 1, 500), 5), rounded(rng.normal(0.5, 1.5, 400), 5))
    add_numeric(
        "missing on both sides",
        with_missing(rng, rounded(rng.normal(0, 1, 300), 5), 0.05),
        with_missing(rng, rounded(rng.normal(0, 1, 300), 5), 0.25),
    )
    add_numeric("current equal to the reference bounds", [1.0, 2.0, 3.0], [1.0, 3.0, 0.999, 3.001, None])
    add_numeric("all current missing", [1.0, 2.0], [None, None, None])
    add_numeric("all reference missing", [None, None], [1.0, None])
    add_numeric("empty current", [1.0, 2.0], [])

    def add_categorical(name, reference, current):
        expected = {
            "referenceMissingShare": None if not reference else sum(v is None for v in reference) / len(reference),
            "currentMissingShare": None if not current else sum(v is None for v in current) / len(current),
        }
        if expected["referenceMissingShare"] is None or expected["currentMissingShare"] is None:
            expected["missingShareChange"] = None
        else:
            expected["missingShareChange"] = expected["currentMissingShare"] - expected["referenceMissingShare"]
        cases.append({"kind": "categorical", "name": name, "reference": reference, "current": current, "expected": expected})

    add_categorical("categorical missing shares", ["a", None, "b", "a", None, "c", "a"], [None, None, "a", "d"])
    add_categorical("categorical empty reference", [], ["a"])
    return cases


# ---------------------------------------------------------------- multiple testing


def multiple_testing_cases():
    rng = np.random.default_rng(3)
    vectors = [
        ("mixed signals", rng.uniform(0, 1, 20).tolist() + [1e-6, 2e-4, 0.003, 0.011, 0.02], 0.05),
        ("ties, zeros and ones", [0.01, 0.01, 0.04, 0.04, 0.04, 0.0, 1.0, 1.0, 0.2, 0.5], 0.05),
        ("nothing rejected", [0.2, 0.6, 0.9, 0.35, 0.051], 0.05),
        ("everything rejected", [0.001, 0.002, 0.0005, 0.004], 0.05),
        ("step-up rescues a larger p-value", [0.01, 0.02, 0.03, 0.04, 0.05], 0.05),
        ("single test", [0.03], 0.05),
        ("looser rate", rng.uniform(0, 0.2, 30).tolist(), 0.1),
        ("many tests", (rng.beta(0.3, 4, 500)).tolist(), 0.05),
    ]
    cases = []
    for name, p_values, rate in vectors:
        reject, adjusted, _, _ = multipletests(p_values, alpha=rate, method="fdr_bh")
        cases.append(
            {
                "name": name,
                "pValues": [float(p) for p in p_values],
                "falseDiscoveryRate": rate,
                "adjustedPValues": [float(p) for p in adjusted],
                "rejected": [bool(r) for r in reject],
            }
        )
    return cases


# ---------------------------------------------------------------- special functions


def kolmogorov_grid():
    """kstwo.sf over every branch of scipy's method selection, and smirnov over its regimes."""
    rng = np.random.default_rng(11)
    two_sided, one_sided = [], []
    sizes = [1, 2, 3, 4, 5, 7, 10, 16, 25, 40, 64, 100, 139, 140, 141, 200, 400, 1000, 3000, 10000, 60000,
             100000, 100001, 250000, 500000, 1000000]
    for n in sizes:
        scaled = np.sqrt(np.concatenate([rng.uniform(0, 0.76, 6), rng.uniform(0.76, 4, 6), rng.uniform(4, 30, 6)]) / n)
        small = np.concatenate([[0.5 / n, np.nextafter(0.5 / n, 1), 0.75 / n, 1 / n, 1.5 / n, (1.4 / n) ** (2 / 3)]])
        large = np.array([0.3, 0.5, 0.7, 1 - 1 / n, 1 - 0.5 / n, 1.0]) if n > 1 else np.array([0.3, 0.5, 0.7, 1.0])
        for d in np.concatenate([scaled, small, large]):
            d = float(d)
            if not 0 <= d <= 1:
                continue
            two_sided.append([n, d, float(stats.kstwo.sf(d, n))])
            one_sided.append([n, d, float(smirnov(n, d))])
    return two_sided, one_sided


def chi_square_grid():
    grid = []
    for dof in [1, 2, 3, 4, 5, 7, 10, 30, 99, 100, 101, 1000, 10000, 100000]:
        for probability in [1e-12, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-6]:
            x = float(stats.chi2.isf(probability, dof))
            grid.append([x, dof, float(stats.chi2.sf(x, dof))])
        for x in [1e-8, 0.5, dof * 0.999, dof + 1, dof * 3 + 50]:
            grid.append([float(x), dof, float(stats.chi2.sf(x, dof))])
    return grid


def main():
    kolmogorov, smirnov_grid = kolmogorov_grid()
    fixture = {
        "generator": "test/oracles/drift_oracle.py",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "statsmodels": statsmodels.__version__},
        "proportionFloor": FLOOR,
        "numeric": numeric_cases(),
        "categorical": categorical_cases(),
        "quality": quality_cases(),
        "multipleTesting": multiple_testing_cases(),
        "kolmogorov": kolmogorov,
        "smirnov": smirnov_grid,
        "chiSquare": chi_square_grid(),
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(fixture, allow_nan=False, separators=(",", ":")) + "\n")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
