#!/usr/bin/env bash
# Stops the broker started by start.sh for KAFKA_PORT: SIGTERM (controlled
# shutdown, logs flushed), then SIGKILL after KAFKA_STOP_TIMEOUT seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
KAFKA_HOME="${KAFKA_HOME:-$repo/.cache/kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
pidfile="$KAFKA_HOME/run/$KAFKA_PORT/kafka.pid"

if [[ ! -f "$pidfile" ]]; then
  echo "kafka: not running on port $KAFKA_PORT (no pid file)"
  exit 0
fi
pid="$(cat "$pidfile")"
if ! kill -0 "$pid" 2>/dev/null; then
  echo "kafka: stale pid file for port $KAFKA_PORT"
  rm -f "$pidfile"
  exit 0
fi

kill -TERM "$pid"
deadline=$(( $(date +%s) + KAFKA_STOP_TIMEOUT ))
while kill -0 "$pid" 2>/dev/null; do
  if (( $(date +%s) > deadline )); then
    echo "kafka: still running after ${KAFKA_STOP_TIMEOUT}s, killing pid $pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
rm -f "$pidfile"
echo "kafka: stopped (port $KAFKA_PORT)"
