-- Raw prediction and outcome events exactly as accepted, with the lineage of each row.
-- Replays (Kafka redelivery after a crash) insert the same event_id again; ReplacingMergeTree keeps
-- one row per (model_id, event_id), and every read that counts or aggregates uses FINAL so that it
-- is exact before background merges have run.

CREATE TABLE IF NOT EXISTS {database}.predictions
(
    event_id            String,
    model_id            LowCardinality(String),
    model_version       LowCardinality(String),
    prediction_id       String,
    occurred_at         DateTime64(3, 'UTC'),
    entity_key          String,
    features_numeric    Map(String, Float64),
    features_text       Map(String, String),
    features_boolean    Map(String, Bool),
    features_missing    Array(String),
    score               Float64,
    predicted_label     Nullable(UInt8),
    decision_threshold  Nullable(Float64),
    segments            Map(String, String),
    producer_service    LowCardinality(String),
    producer_request_id Nullable(String),
    input_hash          Nullable(String),
    source_topic        LowCardinality(String),
    source_partition    Int32,
    source_offset       Int64,
    schema_id           Int32,
    ingested_at         DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (model_id, event_id);

-- statement

CREATE TABLE IF NOT EXISTS {database}.outcomes
(
    event_id         String,
    model_id         LowCardinality(String),
    prediction_id    String,
    observed_at      DateTime64(3, 'UTC'),
    label_kind       Enum8('binary' = 1, 'regression' = 2, 'class' = 3),
    label_value      Nullable(Float64),
    label_class      Nullable(String),
    source           LowCardinality(String),
    source_topic     LowCardinality(String),
    source_partition Int32,
    source_offset    Int64,
    schema_id        Int32,
    ingested_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(observed_at)
ORDER BY (model_id, event_id);
