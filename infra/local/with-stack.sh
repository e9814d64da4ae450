#!/usr/bin/env bash
# Runs a command against the local services: starts them with stack.sh up (silent unless that fails),
# exports KAFKA_BROKERS, SCHEMA_REGISTRY_URL, PROMETHEUS_URL and ALERTMANAGER_URL, then execs the command.
#   bash infra/local/with-stack.sh node dist/test/bench/ingest.bench.js
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: bash infra/local/with-stack.sh COMMAND [ARGUMENT...]" >&2
  exit 2
fi

stack="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stack.sh"
output=$(mktemp)
if ! bash "$stack" up >"$output" 2>&1; then
  cat "$output" >&2
  rm -f "$output"
  exit 1
fi
rm -f "$output"

endpoints=$(bash "$stack" status)
set -a
eval "$endpoints"
set +a
exec "$@"
