"""Times Evidently's data drift preset on the rows of one window, for the ratio monitor.bench.ts prints.

usage: python evidently_window_drift.py FOLDER NUMERIC CATEGORICAL SCORE
FOLDER holds reference.csv (the baseline's rows) and window.csv (the window's rows), as monitor.bench.ts
exports them for `vigil report`: a header, missing values empty. NUMERIC and CATEGORICAL are
comma-separated column names, SCORE the score column, drifted as a numeric column like the features;
other columns (segments, label) are left out, as Vigil drifts only features and score. The timing covers
Evidently's own work (its datasets and the report), not reading the files. Prints one JSON line:
{"seconds": ..., "version": ..., "driftedColumns": ..., "columns": ...}.
"""
import json
import sys
import time

import pandas as pd
import evidently

folder, numeric, categorical, score = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), sys.argv[4]
numeric = numeric + [score]
columns = numeric + categorical


def frame(name: str) -> pd.DataFrame:
    types = {column: "float64" for column in numeric} | {column: "str" for column in categorical}
    return pd.read_csv(f"{folder}/{name}.csv", usecols=columns, dtype=types, keep_default_na=False, na_values={column: [""] for column in columns})


reference, current = frame("reference"), frame("window")

started = time.perf_counter()
try:  # Evidently 0.7 and later
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    report = Report([DataDriftPreset()])
    result = report.run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    summary = result.dict()
except ImportError:  # earlier releases
    from evidently import ColumnMapping
    from evidently.metric_preset import DataDriftPreset
    from evidently.report import Report

    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=reference, current_data=current, column_mapping=ColumnMapping(numerical_features=numeric, categorical_features=categorical))
    summary = report.as_dict()
seconds = time.perf_counter() - started


def drifted_columns(summary: dict) -> "int | None":
    for metric in summary.get("metrics", []):
        value = metric.get("value") if isinstance(metric, dict) else None
        if str(metric.get("metric_name", "")).startswith("DriftedColumnsCount") and isinstance(value, dict):
            return int(value["count"])
        result = metric.get("result") if isinstance(metric, dict) else None
        if isinstance(result, dict) and "number_of_drifted_columns" in result:
            return int(result["number_of_drifted_columns"])
    return None


print(json.dumps({"seconds": seconds, "version": evidently.__version__, "driftedColumns": drifted_columns(summary), "columns": len(columns)}))
