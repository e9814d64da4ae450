-- The monitor's results: one tidy row per (kind, metric, feature, segment, group) of each evaluation
-- of a window, with the provenance a reviewer needs to trace it (baseline, spec, code version).
--
-- A window is evaluated many times (while open, as late events and outcomes land, and once final).
-- Each evaluation writes its rows under a new evaluation_id, then one row in window_evaluations,
-- last: an evaluation without that row (a monitor killed half-way) is never read. Readers take, per
-- window, the latest evaluation recorded in window_evaluations and the rows carrying its id, so a
-- row that a later evaluation no longer produces (a group that vanished) cannot linger.
-- feature, segment and group are '' where the row has none: key columns cannot be Nullable.

CREATE TABLE IF NOT EXISTS {database}.metric_results
(
    evaluation_id    UUID,
    model_id         LowCardinality(String),
    window_size      LowCardinality(String),
    window_start     DateTime64(3, 'UTC'),
    kind             LowCardinality(String),
    metric           LowCardinality(String),
    feature          String,
    segment          String,
    group_name       String,
    value            Nullable(Float64),
    p_value          Nullable(Float64),
    ci_low           Nullable(Float64),
    ci_high          Nullable(Float64),
    n_reference      Nullable(UInt64),
    n_current        Nullable(UInt64),
    threshold        Nullable(Float64),
    status           Enum8('ok' = 1, 'warn' = 2, 'alert' = 3, 'undefined' = 4),
    reason           Nullable(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_id, window_size, window_start, evaluation_id, kind, metric, feature, segment, group_name);

-- statement

CREATE TABLE IF NOT EXISTS {database}.window_evaluations
(
    evaluation_id    UUID,
    model_id         LowCardinality(String),
    model_version    LowCardinality(String),
    window_size      LowCardinality(String),
    window_start     DateTime64(3, 'UTC'),
    window_end       DateTime64(3, 'UTC'),
    window_state     Enum8('provisional' = 1, 'final' = 2),
    baseline_version String,
    spec_hash        String,
    vigil_version    LowCardinality(String),
    evaluated_at     DateTime64(3, 'UTC'),
    result_rows      UInt32
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_id, window_size, window_start, evaluation_id);
