#!/usr/bin/env bash
# Stops what start.sh started for RTSP_PORT: publishers first, then the
# server (SIGTERM, SIGKILL after 5 s).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
RTSP_HOME="${RTSP_HOME:-$repo/.cache/rtsp}"
RTSP_PORT="${RTSP_PORT:-8554}"
run="$RTSP_HOME/run/$RTSP_PORT"

stop_pid() {
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

shopt -s nullglob
for p in "$run"/publish-*.pid; do stop_pid "$p"; done
if [[ -f "$run/server.pid" ]]; then
  stop_pid "$run/server.pid"
  echo "rtsp: stopped (port $RTSP_PORT)"
else
  echo "rtsp: not running on port $RTSP_PORT"
fi
