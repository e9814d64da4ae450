#!/usr/bin/env bash
# The whole test suite: starts the real services this machine can run (Kafka, a Confluent-compatible
# schema registry, Prometheus, Alertmanager) if they are not running, then runs unit and integration
# tests against them and embedded ClickHouse (chDB), or a ClickHouse server when CLICKHOUSE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash infra/local/stack.sh up >&2
eval "$(bash infra/local/stack.sh status)"
export KAFKA_BROKERS SCHEMA_REGISTRY_URL PROMETHEUS_URL ALERTMANAGER_URL

echo "vigil tests: Kafka ${KAFKA_BROKERS}, schema registry ${SCHEMA_REGISTRY_URL}, Prometheus ${PROMETHEUS_URL}, Alertmanager ${ALERTMANAGER_URL}"
if [ -n "${CLICKHOUSE_URL:-}" ]; then
  echo "vigil tests: ClickHouse server ${CLICKHOUSE_URL%%\?*}"
else
  echo "vigil tests: embedded ClickHouse (chDB)"
fi

exec node node_modules/vitest/vitest.mjs run "$@"
