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
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export KAFKA_HOME="${KAFKA_HOME:-$repo/.cache/kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$KAFKA_HOME/data/$KAFKA_PORT}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
run="$KAFKA_HOME/run/$KAFKA_PORT"
pidfile="$run/kafka.pid"
log="$run/server.log"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  if port_open "$KAFKA_PORT"; then
    echo "kafka: already running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$pidfile"))"
    exit 0
  fi
  # Running but not (yet) listening: fall through to the readiness wait below.
  pid="$(cat "$pidfile")"
else
  if port_open "$KAFKA_PORT"; then
    echo "kafka: port $KAFKA_PORT is taken by another process" >&2
    exit 1
  fi
  "$here/fetch.sh"
  mkdir -p "$run" "$KAFKA_DATA_DIR"

  cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
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

  if [[ ! -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
    # Kafka cluster ids are 16 random bytes, base64url without padding; Kafka
    # itself avoids ids starting with '-' (they read as CLI flags).
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
      cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    done
    java -Dlog4j2.configurationFile="$here/log4j2.xml" -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool \
      format -t "$cluster_id" -c "$run/server.properties" >"$run/format.log" 2>&1 \
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
