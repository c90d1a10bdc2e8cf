#!/usr/bin/env bash
# Starts a single-node Apache Kafka 4.x (KRaft, combined broker+controller) for
# development and tests. Idempotent: a broker already running for this port is
# left alone. Data survives stop/start (same data dir), so a restart keeps
# every message.
#
# Env:
#   KAFKA_PORT             client listener (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default KAFKA_PORT+1)
#   KAFKA_HOME             jars + state (default <repo>/.cache/kafka)
#   KAFKA_DATA_DIR         log dir (default $KAFKA_HOME/data/$KAFKA_PORT)
#   KAFKA_HEAP_OPTS        JVM heap (default -Xms256m -Xmx768m)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
#   KAFKA_EXTRA_LISTENERS  more client listeners, comma-separated, each named by
#                          its security protocol: SASL_PLAINTEXT://127.0.0.1:9094,SSL://127.0.0.1:9095
#                          (PLAINTEXT on KAFKA_PORT stays: inter-broker traffic and readiness)
#   KAFKA_EXTRA_CONFIG     a properties file appended to server.properties (JAAS, keystores);
#                          a key set there again overrides the one above it
#   KAFKA_FORMAT_ARGS      more arguments for the storage format, split on whitespace; only
#                          a first start formats: --add-scram SCRAM-SHA-512=[name=bob,password=...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export KAFKA_HOME="${KAFKA_HOME:-$repo/.cache/kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$KAFKA_HOME/data/$KAFKA_PORT}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_EXTRA_LISTENERS="${KAFKA_EXTRA_LISTENERS:-}"
KAFKA_EXTRA_CONFIG="${KAFKA_EXTRA_CONFIG:-}"
KAFKA_FORMAT_ARGS="${KAFKA_FORMAT_ARGS:-}"
run="$KAFKA_HOME/run/$KAFKA_PORT"
pidfile="$run/kafka.pid"
log="$run/server.log"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  if port_open "$KAFKA_PORT"; then
    # Said plainly: a server someone else started (an earlier test run) is not a fresh one.
    echo "kafka: reusing the broker already running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$pidfile"), data $KAFKA_DATA_DIR); KAFKA_PORT=$KAFKA_PORT deploy/kafka/stop.sh stops it"
    exit 0
  fi
  # Running but not (yet) listening: fall through to the readiness wait below.
  pid="$(cat "$pidfile")"
else
  if port_open "$KAFKA_PORT"; then
    echo "kafka: port $KAFKA_PORT is taken by another process" >&2
    exit 1
  fi
  if [[ -n "$KAFKA_EXTRA_CONFIG" && ! -r "$KAFKA_EXTRA_CONFIG" ]]; then
    echo "kafka: KAFKA_EXTRA_CONFIG=$KAFKA_EXTRA_CONFIG is not a readable file" >&2
    exit 1
  fi
  extra_listeners="" extra_protocols=""
  if [[ -n "$KAFKA_EXTRA_LISTENERS" ]]; then
    IFS=',' read -ra extra <<<"$KAFKA_EXTRA_LISTENERS"
    for listener in "${extra[@]}"; do
      name="${listener%%://*}"
      case "$name" in
        SSL | SASL_PLAINTEXT | SASL_SSL) ;;
        *)
          echo "kafka: KAFKA_EXTRA_LISTENERS: $listener is not SSL://, SASL_PLAINTEXT:// or SASL_SSL://host:port" >&2
          exit 1
          ;;
      esac
      extra_listeners+=",$listener"
      extra_protocols+=",$name:$name"
    done
  fi
  "$here/fetch.sh"
  mkdir -p "$run" "$KAFKA_DATA_DIR"

  cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT$extra_listeners
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT$extra_listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT$extra_protocols
log.dirs=$KAFKA_DATA_DIR
# Topics are provisioned by the bus adapter with explicit partitions/retention.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Single node: no reason to wait for more members before the first rebalance.
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=60000
PROPS
  if [[ -n "$KAFKA_EXTRA_CONFIG" ]]; then
    { echo "# from KAFKA_EXTRA_CONFIG=$KAFKA_EXTRA_CONFIG"; cat "$KAFKA_EXTRA_CONFIG"; } >>"$run/server.properties"
  fi

  if [[ ! -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
    # Kafka cluster ids are 16 random bytes, base64url without padding; Kafka
    # itself avoids ids starting with '-' (they read as CLI flags).
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
      cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    done
    # An array, not an unquoted expansion: SCRAM credentials look like glob patterns.
    read -ra format_args <<<"$KAFKA_FORMAT_ARGS"
    java -Dlog4j2.configurationFile="$here/log4j2.xml" -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool \
      format -t "$cluster_id" -c "$run/server.properties" "${format_args[@]}" >"$run/format.log" 2>&1 \
      || { cat "$run/format.log" >&2; exit 1; }
    echo "kafka: formatted $KAFKA_DATA_DIR (cluster $cluster_id)"
  fi

  started_ms=$(date +%s%3N)
  # setsid: own process group, so a test runner's signals do not reach it and
  # stop.sh can end the broker alone.
  # shellcheck disable=SC2086
  setsid nohup java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.xml" \
    -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$run/server.properties" >"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
fi

started_ms="${started_ms:-$(date +%s%3N)}"
deadline=$(( $(date +%s) + KAFKA_START_TIMEOUT ))
# Ready = the listener answers and the server logged the end of its startup
# (the socket is bound before request processing is enabled).
until port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$log" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "kafka: broker exited during startup; last log lines:" >&2
    tail -n 30 "$log" >&2
    rm -f "$pidfile"
    exit 1
  fi
  if (( $(date +%s) > deadline )); then
    echo "kafka: not ready after ${KAFKA_START_TIMEOUT}s; see $log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "kafka: ready on 127.0.0.1:$KAFKA_PORT (pid $pid) in $(( $(date +%s%3N) - started_ms )) ms"
