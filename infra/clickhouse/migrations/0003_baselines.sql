-- Fitted baselines: the reference profile every window of a model is compared with, stored so that
-- it is fitted once and any past result can be traced to the exact profile it was compared with.
--
-- baseline_version is a content hash of what the profile was fitted from (the spec's features,
-- score column, segments and drift bins, and the digest of the reference data; see
-- services/core/baseline/baseline-version.ts), so a new reference or a changed shape is a new row
-- beside the old ones, never an overwrite. Saving the same version again (a restart, a second
-- replica, a spec change that leaves the shape alone) writes the same profile under the same key,
-- and ReplacingMergeTree keeps one row: the last saved, whose spec_hash and fitted_at it shows.
-- reference says, for a reader, where the data came from ("file sepsis-reference.csv sha256:…",
-- "production 2026-10-01..2026-10-31"); reference_rows is how many rows it had.
-- profile is the JSON of services/core/metrics/sketches/reference-profile-json.ts: text that
-- repeats field names and digits, which ZSTD compresses well.

CREATE TABLE IF NOT EXISTS {database}.baselines
(
    model_id          LowCardinality(String),
    baseline_version  String,
    spec_hash         String,
    fitted_at         DateTime64(3, 'UTC'),
    reference         String,
    reference_rows    UInt64,
    profile           String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
ORDER BY (model_id, baseline_version);
