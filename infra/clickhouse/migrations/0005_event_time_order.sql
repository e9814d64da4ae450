-- The raw tables ordered by event time within each model: (model_id, occurred_at, event_id) and
-- (model_id, observed_at, event_id). A read of a time range (a window, a baseline, the windows
-- since a given start) then touches the granules of that range only. With (model_id, event_id),
-- every read ran FINAL over all of the model's rows, whatever the range: ClickHouse prunes a FINAL
-- read by sorting-key columns only, since rows merged under one key could otherwise differ in the
-- filtered column. A replay carries the same event time, so it still collapses into one row.
--
-- Each table is copied into one with the new order, which then takes its place. Every step is
-- skipped once the table has the new order, so the file runs again after a crash from where the
-- database is; a partial copy left by a crash is dropped and made again.

-- unless: SELECT sorting_key = 'model_id, occurred_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'predictions'
DROP TABLE IF EXISTS {database}.predictions_reordered

-- statement
-- unless: SELECT sorting_key = 'model_id, occurred_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'predictions'
CREATE TABLE {database}.predictions_reordered AS {database}.predictions
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (model_id, occurred_at, event_id)

-- statement
-- unless: SELECT sorting_key = 'model_id, occurred_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'predictions'
INSERT INTO {database}.predictions_reordered SELECT * FROM {database}.predictions

-- statement
-- unless: SELECT sorting_key = 'model_id, occurred_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'predictions'
EXCHANGE TABLES {database}.predictions AND {database}.predictions_reordered

-- statement
DROP TABLE IF EXISTS {database}.predictions_reordered

-- statement
-- unless: SELECT sorting_key = 'model_id, observed_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'outcomes'
DROP TABLE IF EXISTS {database}.outcomes_reordered

-- statement
-- unless: SELECT sorting_key = 'model_id, observed_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'outcomes'
CREATE TABLE {database}.outcomes_reordered AS {database}.outcomes
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(observed_at)
ORDER BY (model_id, observed_at, event_id)

-- statement
-- unless: SELECT sorting_key = 'model_id, observed_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'outcomes'
INSERT INTO {database}.outcomes_reordered SELECT * FROM {database}.outcomes

-- statement
-- unless: SELECT sorting_key = 'model_id, observed_at, event_id' FROM system.tables WHERE database = '{database}' AND name = 'outcomes'
EXCHANGE TABLES {database}.outcomes AND {database}.outcomes_reordered

-- statement
DROP TABLE IF EXISTS {database}.outcomes_reordered
