"""Times Evidently's data drift preset on the columns metrics.bench.ts writes, for the ratio it prints.

usage: python evidently_drift.py FOLDER ROWS FEATURES
FOLDER holds reference.f64 and current.f64: float64, little-endian, feature-major
(feature 0's ROWS values, then feature 1's, ...). Prints one JSON line: {"seconds": ..., "version": ...}.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import evidently

folder, rows, features = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def frame(name: str) -> pd.DataFrame:
    values = np.fromfile(f"{folder}/{name}.f64", dtype="<f8").reshape(features, rows)
    return pd.DataFrame({f"feature_{index}": values[index] for index in range(features)})


reference, current = frame("reference"), frame("current")
try:  # Evidently 0.7 and later
    from evidently import Report
    from evidently.presets import DataDriftPreset
except ImportError:  # earlier releases
    from evidently.report import Report
    from evidently.metric_preset import DataDriftPreset

started = time.perf_counter()
report = Report([DataDriftPreset()])
result = report.run(reference_data=reference, current_data=current)
if result is None:
    result = report
result.dict() if hasattr(result, "dict") else result.as_dict()
print(json.dumps({"seconds": time.perf_counter() - started, "version": evidently.__version__}))
