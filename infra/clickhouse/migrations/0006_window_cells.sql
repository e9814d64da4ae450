-- The cells of evaluated windows that larger windows are made of: a model's 1d windows, say, when
-- its spec also has 7d windows. A 7d window is then its seven days' cells merged (see
-- services/core/monitoring/window-parts.ts), not its events read again, so its evaluation holds
-- cells rather than events, however many events the week has.
--
-- A row is the cells of one window as one evaluation computed them, under the baseline they were
-- binned on, with the signature of the window's content at that time (its stored predictions and
-- outcomes, counted as the monitor's window summaries count them). A window evaluated again writes
-- a new row under the same key, and ReplacingMergeTree keeps the latest: the cells are reused only
-- while the signature still matches, and a final window only from cells computed once it was final.
-- cells held the cells as JSON here; 0007_window_cells_binary made them a binary document.
-- Cells are a cache of what the raw tables hold: a row gone (35 days after it was stored, by the
-- server's clock, not the monitor's) or unreadable is computed again.

CREATE TABLE IF NOT EXISTS {database}.window_cells
(
    model_id         LowCardinality(String),
    baseline_version String,
    window_size      LowCardinality(String),
    window_start     DateTime64(3, 'UTC'),
    window_state     Enum8('provisional' = 1, 'final' = 2),
    signature        String,
    evaluated_at     DateTime64(3, 'UTC'),
    cells            String CODEC(ZSTD(3)),
    stored_at        DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(evaluated_at)
ORDER BY (model_id, baseline_version, window_size, window_start)
TTL stored_at + INTERVAL 35 DAY;
