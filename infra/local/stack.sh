#!/usr/bin/env bash
# The real services Vigil talks to, run as plain local processes (no Docker), all bound to 127.0.0.1:
#   Kafka 3.9 (KRaft, one combined broker+controller node)   jars from Maven Central
#   Apicurio Registry 2.6 (Confluent-compatible API)          from Maven Central, in-memory storage
#   Prometheus and Alertmanager                               Debian packages, our own config and data
#
#   bash infra/local/stack.sh up       start what is not running, wait until ready, print the status lines
#   bash infra/local/stack.sh status   print KAFKA_BROKERS=... lines (sourceable); non-zero if anything is down
#   bash infra/local/stack.sh down     stop everything this script started
#   bash infra/local/stack.sh configs  write the runtime Prometheus/Alertmanager configs, print their paths
#
# Downloads are cached in $VIGIL_CACHE_DIR (default ~/.cache/vigil); data, pid files and logs live in
# $VIGIL_STACK_DIR (default $VIGIL_CACHE_DIR/stack), logs in $VIGIL_STACK_DIR/logs/<service>.log.
# Ports: VIGIL_KAFKA_PORT (19092), VIGIL_KAFKA_CONTROLLER_PORT (19093), VIGIL_SCHEMA_REGISTRY_PORT (18081),
# VIGIL_PROMETHEUS_PORT (19090), VIGIL_ALERTMANAGER_PORT (19094); Prometheus scrapes Vigil on
# VIGIL_HTTP_PORT (9464) and Alertmanager pages through VIGIL_PAGER_PORT (19095).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE_DIR=${VIGIL_CACHE_DIR:-$HOME/.cache/vigil}
STACK_DIR=${VIGIL_STACK_DIR:-$CACHE_DIR/stack}
LOG_DIR=$STACK_DIR/logs
RUN_DIR=$STACK_DIR/run

HOST=127.0.0.1
KAFKA_PORT=${VIGIL_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${VIGIL_KAFKA_CONTROLLER_PORT:-19093}
REGISTRY_PORT=${VIGIL_SCHEMA_REGISTRY_PORT:-18081}
PROMETHEUS_PORT=${VIGIL_PROMETHEUS_PORT:-19090}
ALERTMANAGER_PORT=${VIGIL_ALERTMANAGER_PORT:-19094}
VIGIL_METRICS_PORT=${VIGIL_HTTP_PORT:-9464}
PAGER_PORT=${VIGIL_PAGER_PORT:-19095}
READY_TIMEOUT=${VIGIL_STACK_READY_TIMEOUT:-90}
STOP_TIMEOUT=${VIGIL_STACK_STOP_TIMEOUT:-30}

KAFKA_POM=$ROOT/infra/local/kafka-broker.pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")
KAFKA_HOME=$CACHE_DIR/kafka-$KAFKA_VERSION
KAFKA_HEAP=${VIGIL_KAFKA_HEAP:-512m}

APICURIO_VERSION=2.6.13.Final
APICURIO_HOME=$CACHE_DIR/apicurio-${APICURIO_VERSION%.Final}
APICURIO_JAR=$APICURIO_HOME/apicurio-registry-app-$APICURIO_VERSION-runner.jar
REGISTRY_HEAP=${VIGIL_SCHEMA_REGISTRY_HEAP:-384m}

SERVICES=(kafka schema-registry prometheus alertmanager)

die() {
  echo "vigil: $*" >&2
  exit 1
}

note() {
  echo "vigil stack: $*" >&2
}

for port_var in KAFKA_PORT KAFKA_CONTROLLER_PORT REGISTRY_PORT PROMETHEUS_PORT ALERTMANAGER_PORT VIGIL_METRICS_PORT PAGER_PORT READY_TIMEOUT STOP_TIMEOUT; do
  [[ ${!port_var} =~ ^[0-9]+$ ]] || die "$port_var must be a number, got '${!port_var}'"
done
[ -n "$KAFKA_VERSION" ] || die "cannot read <kafka.version> from $KAFKA_POM"

# ---------------------------------------------------------------------------------------------
# Prerequisites and downloads
# ---------------------------------------------------------------------------------------------

require_java() {
  command -v java >/dev/null 2>&1 ||
    die "Java 17+ is required for Kafka and the schema registry: apt-get install openjdk-17-jre-headless"
  local version
  version=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  [[ ${version%%.*} =~ ^[0-9]+$ ]] && [ "${version%%.*}" -ge 17 ] ||
    die "Java 17+ is required for Kafka and the schema registry (found ${version:-an unknown version}): apt-get install openjdk-17-jre-headless"
}

require_maven() {
  command -v mvn >/dev/null 2>&1 ||
    die "Maven is required to fetch Kafka and the schema registry from Maven Central: apt-get install maven"
}

alertmanager_binary() {
  if command -v prometheus-alertmanager >/dev/null 2>&1; then
    command -v prometheus-alertmanager
  elif command -v alertmanager >/dev/null 2>&1; then
    command -v alertmanager
  else
    return 1
  fi
}

has_compose() {
  command -v docker-compose >/dev/null 2>&1 || { command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }
}

# Prometheus, Alertmanager (with promtool and amtool) and docker-compose (which the test suite uses
# to validate docker-compose.yml without an engine) come from Debian. Package installation must not
# start Debian's own system services: a temporary policy-rc.d forbids that while apt-get runs.
ensure_debian_tools() {
  local missing=()
  { command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
  { alertmanager_binary && command -v amtool; } >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
  local required=${#missing[@]}
  has_compose || missing+=(docker-compose)
  [ ${#missing[@]} -gt 0 ] || return 0

  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    if [ "$required" -gt 0 ]; then
      die "Prometheus and Alertmanager are required: apt-get install prometheus prometheus-alertmanager (as root)"
    fi
    note "docker-compose is missing (the test suite validates docker-compose.yml with it): apt-get install docker-compose"
    return 0
  fi

  note "installing Debian packages: ${missing[*]} (log: $LOG_DIR/apt.log)"
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  local status=0
  {
    apt-get update &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  } >>"$LOG_DIR/apt.log" 2>&1 || status=$?
  [ "$own_policy" -eq 0 ] || rm -f "$policy"
  [ "$status" -eq 0 ] || die "apt-get install ${missing[*]} failed: see $LOG_DIR/apt.log"
}

kafka_pom_digest() {
  sha256sum "$KAFKA_POM" | cut -d' ' -f1
}

kafka_jars_current() {
  [ "$(cat "$KAFKA_HOME/libs/.resolved-from" 2>/dev/null)" = "$(kafka_pom_digest)" ]
}

apicurio_available() {
  [ -f "$APICURIO_JAR" ] || [ -s "$CACHE_DIR/dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" ]
}

# Kafka's jars, resolved by Maven from the POM; re-resolved whenever the POM changes.
ensure_kafka_jars() {
  kafka_jars_current && return 0
  require_maven
  local libs=$KAFKA_HOME/libs digest
  digest=$(kafka_pom_digest)
  note "resolving Kafka $KAFKA_VERSION jars from Maven Central (log: $LOG_DIR/maven.log)"
  local staging=$KAFKA_HOME/libs.partial
  rm -rf "$staging"
  mkdir -p "$KAFKA_HOME"
  mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$staging" \
    >>"$LOG_DIR/maven.log" 2>&1 || die "resolving the Kafka jars with Maven failed: see $LOG_DIR/maven.log"
  ls "$staging"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven resolved no kafka_2.13 jar: see $LOG_DIR/maven.log"
  echo "$digest" >"$staging/.resolved-from"
  rm -rf "$libs"
  mv "$staging" "$libs"
}

ensure_apicurio() {
  [ -f "$APICURIO_JAR" ] && return 0
  local archive=$CACHE_DIR/dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz
  if [ ! -s "$archive" ]; then
    require_maven
    note "downloading Apicurio Registry $APICURIO_VERSION from Maven Central (log: $LOG_DIR/maven.log)"
    mkdir -p "$CACHE_DIR/dl"
    mvn -q -B dependency:copy "-Dartifact=io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
      -DoutputDirectory="$CACHE_DIR/dl" >>"$LOG_DIR/maven.log" 2>&1 ||
      die "downloading Apicurio Registry with Maven failed: see $LOG_DIR/maven.log"
  fi
  local staging=$APICURIO_HOME.partial
  rm -rf "$staging"
  mkdir -p "$staging"
  tar -xzf "$archive" -C "$staging" || die "cannot unpack $archive (delete it to download it again)"
  [ -f "$staging/${APICURIO_JAR##*/}" ] || die "$archive holds no ${APICURIO_JAR##*/}"
  rm -rf "$APICURIO_HOME"
  mv "$staging" "$APICURIO_HOME"
}

# ---------------------------------------------------------------------------------------------
# Runtime configuration
# ---------------------------------------------------------------------------------------------

write_if_changed() {
  local path=$1 content=$2
  if [ ! -f "$path" ] || [ "$(cat "$path")" != "$content" ]; then
    printf '%s\n' "$content" >"$path.tmp"
    mv "$path.tmp" "$path"
  fi
}

render_kafka_config() {
  mkdir -p "$STACK_DIR/kafka/data"
  write_if_changed "$STACK_DIR/kafka/server.properties" "# Written by infra/local/stack.sh on every start; edit the script, not this file.
node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
log.dirs=$STACK_DIR/kafka/data

# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0

# Vigil creates its topics with the partition counts it wants; a producer or consumer naming a topic
# that does not exist gets an error instead of a silently created one-partition topic.
num.partitions=1
auto.create.topics.enable=false

num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864"
}

render_prometheus_config() {
  mkdir -p "$STACK_DIR/prometheus/data"
  local text
  text=$(<"$ROOT/infra/prometheus/prometheus.yml")
  text=${text//"127.0.0.1:9464"/"$HOST:$VIGIL_METRICS_PORT"}
  text=${text//"127.0.0.1:19094"/"$HOST:$ALERTMANAGER_PORT"}
  text=${text//"- rules/"/"- $ROOT/infra/prometheus/rules/"}
  write_if_changed "$STACK_DIR/prometheus/prometheus.yml" "# Runtime copy of $ROOT/infra/prometheus/prometheus.yml written by infra/local/stack.sh.
$text"
}

render_alertmanager_config() {
  mkdir -p "$STACK_DIR/alertmanager/data"
  local text
  text=$(<"$ROOT/infra/alertmanager/alertmanager.yml")
  text=${text//"127.0.0.1:19095"/"$HOST:$PAGER_PORT"}
  write_if_changed "$STACK_DIR/alertmanager/alertmanager.yml" "# Runtime copy of $ROOT/infra/alertmanager/alertmanager.yml written by infra/local/stack.sh.
$text"
}

# A digest of everything a running Prometheus or Alertmanager has loaded: when it changes, `up`
# asks the running process to reload (SIGHUP) instead of leaving it on the old configuration.
config_digest() {
  case $1 in
    prometheus) cat "$STACK_DIR/prometheus/prometheus.yml" "$ROOT"/infra/prometheus/rules/*.yml 2>/dev/null | sha256sum | cut -d' ' -f1 ;;
    alertmanager) sha256sum <"$STACK_DIR/alertmanager/alertmanager.yml" | cut -d' ' -f1 ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

pid_file() { echo "$RUN_DIR/$1.pid"; }
log_file() { echo "$LOG_DIR/$1.log"; }

# The pid of a service this stack started, if that process is still alive. Each command line names
# the stack folder, so a recycled pid is never taken for ours; a stale pid file is removed.
running_pid() {
  local file pid command_line
  file=$(pid_file "$1")
  [ -f "$file" ] || return 1
  pid=$(<"$file")
  if [[ $pid =~ ^[0-9]+$ ]] && command_line=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") &&
    [[ $command_line == *"$STACK_DIR/"* ]]; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# An ApiVersions (v0) request, answered only once the broker is actually serving clients.
kafka_answers() {
  local reply
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x01\x00\x05vigil" >&3
    head -c 10 <&3 | od -An -tx1' "$HOST" "$KAFKA_PORT" 2>/dev/null) || return 1
  reply=${reply//[[:space:]]/}
  [ "${reply:8:12}" = "000000010000" ]
}

service_answers() {
  case $1 in
    kafka) kafka_answers ;;
    schema-registry) curl -sf -m 3 -o /dev/null "http://$HOST:$REGISTRY_PORT/apis/ccompat/v7/subjects" ;;
    prometheus) curl -sf -m 3 -o /dev/null "http://$HOST:$PROMETHEUS_PORT/-/ready" ;;
    alertmanager) curl -sf -m 3 -o /dev/null "http://$HOST:$ALERTMANAGER_PORT/-/ready" ;;
  esac
}

service_ports() {
  case $1 in
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    schema-registry) echo "$REGISTRY_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
    alertmanager) echo "$ALERTMANAGER_PORT" ;;
  esac
}

status_line() {
  case $1 in
    kafka) echo "KAFKA_BROKERS=$HOST:$KAFKA_PORT" ;;
    schema-registry) echo "SCHEMA_REGISTRY_URL=http://$HOST:$REGISTRY_PORT/apis/ccompat/v7" ;;
    prometheus) echo "PROMETHEUS_URL=http://$HOST:$PROMETHEUS_PORT" ;;
    alertmanager) echo "ALERTMANAGER_URL=http://$HOST:$ALERTMANAGER_PORT" ;;
  esac
}

# Starts "$@" in its own session, detached from this shell and its terminal, with stdin, stdout and
# stderr on /dev/null and the service's log, so that a caller capturing our output is never held.
launch() {
  local service=$1 workdir=$2
  shift 2
  local log
  log=$(log_file "$service")
  printf '\n===== %s vigil stack: starting %s =====\n' "$(date '+%F %T')" "$service" >>"$log"
  (cd "$workdir" && exec setsid "$@" </dev/null >>"$log" 2>&1) &
  echo $! >"$(pid_file "$service")"
}

start_kafka() {
  ensure_kafka_jars
  render_kafka_config
  local classpath="$KAFKA_HOME/libs/*"
  local logging=("-Dkafka.logs.dir=$LOG_DIR" "-Dlog4j.configuration=file:$ROOT/infra/local/kafka-log4j.properties")
  local tool_opts=(-Xmx256m -Djava.awt.headless=true "${logging[@]}")
  local java_opts=(
    "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.net.preferIPv4Stack=true -Djava.awt.headless=true "${logging[@]}"
  )
  if [ ! -f "$STACK_DIR/kafka/data/meta.properties" ]; then
    local cluster_id_file=$STACK_DIR/kafka/cluster.id
    if [ ! -s "$cluster_id_file" ]; then
      java "${tool_opts[@]}" -cp "$classpath" kafka.tools.StorageTool random-uuid 2>>"$(log_file kafka)" >"$cluster_id_file.tmp" ||
        die "kafka: cannot generate a cluster id: see $(log_file kafka)"
      mv "$cluster_id_file.tmp" "$cluster_id_file"
    fi
    note "formatting Kafka storage in $STACK_DIR/kafka/data"
    java "${tool_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format --ignore-formatted \
      -t "$(<"$cluster_id_file")" -c "$STACK_DIR/kafka/server.properties" >>"$(log_file kafka)" 2>&1 ||
      die "kafka: formatting the storage failed: see $(log_file kafka)"
  fi
  launch kafka "$STACK_DIR/kafka" java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$STACK_DIR/kafka/server.properties"
}

# The transaction manager names this process by a UUID instead of by holding a socket open on a random
# port (its default), so the registry listens on its HTTP port only.
start_schema_registry() {
  ensure_apicurio
  mkdir -p "$STACK_DIR/schema-registry/tmp"
  launch schema-registry "$STACK_DIR/schema-registry" java "-Xmx$REGISTRY_HEAP" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
    -Djava.net.preferIPv4Stack=true "-Djava.io.tmpdir=$STACK_DIR/schema-registry/tmp" \
    -DCoreEnvironmentBean.processImplementationClassName=com.arjuna.ats.internal.arjuna.utils.UuidProcessId \
    -Dquarkus.http.host=$HOST "-Dquarkus.http.port=$REGISTRY_PORT" \
    -jar "$APICURIO_JAR"
}

start_prometheus() {
  render_prometheus_config
  launch prometheus "$STACK_DIR/prometheus" prometheus \
    "--config.file=$STACK_DIR/prometheus/prometheus.yml" \
    "--storage.tsdb.path=$STACK_DIR/prometheus/data" \
    --storage.tsdb.retention.time=7d \
    "--web.listen-address=$HOST:$PROMETHEUS_PORT" \
    "--web.external-url=http://$HOST:$PROMETHEUS_PORT/"
  config_digest prometheus >"$RUN_DIR/prometheus.config-digest"
}

start_alertmanager() {
  render_alertmanager_config
  launch alertmanager "$STACK_DIR/alertmanager" "$(alertmanager_binary)" \
    "--config.file=$STACK_DIR/alertmanager/alertmanager.yml" \
    "--storage.path=$STACK_DIR/alertmanager/data" \
    "--web.listen-address=$HOST:$ALERTMANAGER_PORT" \
    "--web.external-url=http://$HOST:$ALERTMANAGER_PORT/" \
    --cluster.listen-address=
  config_digest alertmanager >"$RUN_DIR/alertmanager.config-digest"
}

# A running Prometheus or Alertmanager whose configuration or rules changed reloads them in place.
reload_if_changed() {
  local service=$1 pid=$2 digest_file=$RUN_DIR/$1.config-digest
  case $service in
    prometheus) render_prometheus_config ;;
    alertmanager) render_alertmanager_config ;;
    *) return 0 ;;
  esac
  local digest
  digest=$(config_digest "$service")
  if [ "$(cat "$digest_file" 2>/dev/null)" != "$digest" ]; then
    note "$service: configuration changed, reloading"
    kill -HUP "$pid"
    echo "$digest" >"$digest_file"
  fi
}

wait_ready() {
  local service=$1 deadline=$((SECONDS + READY_TIMEOUT)) log
  log=$(log_file "$service")
  until service_answers "$service"; do
    if ! running_pid "$service" >/dev/null; then
      echo "vigil: $service exited during start-up: see $log" >&2
      tail -n 15 "$log" | sed 's/^/  | /' >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "vigil: $service was not ready after ${READY_TIMEOUT}s: see $log" >&2
      tail -n 15 "$log" | sed 's/^/  | /' >&2
      return 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

cmd_up() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  require_java
  ensure_debian_tools
  note "logs: $LOG_DIR"

  # Everything that could stop a start is checked before anything starts.
  local service pid port to_start=() starting=()
  for service in "${SERVICES[@]}"; do
    running_pid "$service" >/dev/null && continue
    for port in $(service_ports "$service"); do
      if port_open "$port"; then
        die "$service: port $HOST:$port is already taken by a process this stack did not start (ss -ltnp 'sport = :$port'); stop it or choose another port (see the top of infra/local/stack.sh)"
      fi
    done
    to_start+=("$service")
  done
  case " ${to_start[*]-} " in *" kafka "*) kafka_jars_current || require_maven ;; esac
  case " ${to_start[*]-} " in *" schema-registry "*) apicurio_available || require_maven ;; esac

  for service in "${SERVICES[@]}"; do
    if pid=$(running_pid "$service"); then
      reload_if_changed "$service" "$pid"
      if service_answers "$service"; then
        note "$service: already running (pid $pid)"
      else
        starting+=("$service")
      fi
      continue
    fi
    note "$service: starting"
    "start_${service//-/_}"
    starting+=("$service")
  done

  local failed=0
  for service in ${starting[@]+"${starting[@]}"}; do
    if wait_ready "$service"; then
      note "$service: ready (pid $(running_pid "$service"))"
    else
      failed=1
    fi
  done
  [ "$failed" -eq 0 ] || exit 1
  cmd_status
}

cmd_status() {
  local service pid down=0
  for service in "${SERVICES[@]}"; do
    if pid=$(running_pid "$service") && service_answers "$service"; then
      status_line "$service"
    elif [ -n "${pid:-}" ]; then
      echo "vigil: $service is not answering (pid $pid; log: $(log_file "$service"))" >&2
      down=1
    else
      echo "vigil: $service is down (start it with: bash infra/local/stack.sh up)" >&2
      down=1
    fi
    pid=
  done
  return "$down"
}

cmd_down() {
  local service pid stopping=()
  for service in alertmanager prometheus schema-registry kafka; do
    if pid=$(running_pid "$service"); then
      note "$service: stopping (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      stopping+=("$service:$pid")
    fi
  done
  local deadline=$((SECONDS + STOP_TIMEOUT)) entry
  for entry in ${stopping[@]+"${stopping[@]}"}; do
    service=${entry%%:*}
    pid=${entry##*:}
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      note "$service: still running after ${STOP_TIMEOUT}s, killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$service")"
  done
  note "stopped"
}

cmd_configs() {
  mkdir -p "$STACK_DIR"
  render_prometheus_config
  render_alertmanager_config
  echo "PROMETHEUS_CONFIG=$STACK_DIR/prometheus/prometheus.yml"
  echo "ALERTMANAGER_CONFIG=$STACK_DIR/alertmanager/alertmanager.yml"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  configs) cmd_configs ;;
  *)
    echo "usage: bash infra/local/stack.sh up|down|status|configs" >&2
    exit 2
    ;;
esac
