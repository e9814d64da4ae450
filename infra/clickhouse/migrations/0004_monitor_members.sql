-- Monitors that share one ClickHouse split the work between them: each (model, window size) is
-- evaluated by one live monitor, chosen by rendezvous hashing over the members whose lease has
-- not run out. A monitor renews its lease every pass and gives it up when it stops; one killed
-- loses it when the lease ends. Times are the ClickHouse server's, so clocks of the monitors'
-- hosts do not matter. The latest row per instance_id (by updated_at) holds its lease.

CREATE TABLE IF NOT EXISTS {database}.monitor_members
(
    instance_id  String,
    updated_at   DateTime64(3, 'UTC'),
    lease_until  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY instance_id
TTL toDateTime(updated_at) + INTERVAL 7 DAY;

-- statement

-- Which monitor recorded an evaluation, for tracing how the work was split.
ALTER TABLE {database}.window_evaluations ADD COLUMN IF NOT EXISTS evaluated_by String DEFAULT '' AFTER evaluated_at;
