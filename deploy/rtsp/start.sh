#!/usr/bin/env bash
# Starts an RTSP server on 127.0.0.1:$RTSP_PORT (installing it first), and
# optionally publishes a video file in a loop on one path, as a camera would.
# Idempotent: a server already running for this port is left alone.
#
# Env:
#   RTSP_PORT          listen port (default 8554)
#   RTSP_AUTH          comma-separated path=user:password; those paths need credentials
#   RTSP_SERVER        relay (default) or mediamtx, see install.sh
#   RTSP_PUBLISH       a video file to publish in a loop (optional), e.g. assets/sample.mp4
#   RTSP_PUBLISH_PATH  the path to publish it on (default cam1)
#   RTSP_HOME          default <repo>/.cache/rtsp
#
#   deploy/rtsp/start.sh                                     # server only
#   RTSP_PUBLISH=assets/sample.mp4 deploy/rtsp/start.sh      # + rtsp://127.0.0.1:8554/cam1
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export RTSP_HOME="${RTSP_HOME:-$repo/.cache/rtsp}"
RTSP_PORT="${RTSP_PORT:-8554}"
RTSP_AUTH="${RTSP_AUTH:-}"
RTSP_SERVER="${RTSP_SERVER:-relay}"
RTSP_PUBLISH="${RTSP_PUBLISH:-}"
RTSP_PUBLISH_PATH="${RTSP_PUBLISH_PATH:-cam1}"
run="$RTSP_HOME/run/$RTSP_PORT"
pidfile="$run/server.pid"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

mkdir -p "$run"
if alive "$pidfile" && port_open "$RTSP_PORT"; then
  echo "rtsp: already running on 127.0.0.1:$RTSP_PORT (pid $(cat "$pidfile"))"
else
  if port_open "$RTSP_PORT"; then
    echo "rtsp: port $RTSP_PORT is taken by another process" >&2
    exit 1
  fi
  bin="$(RTSP_SERVER="$RTSP_SERVER" "$here/install.sh" | tail -n 1)"
  if [[ "$RTSP_SERVER" == mediamtx ]]; then
    # Written for mediamtx v1.9: RTSP over TCP only, every other protocol off.
    {
      echo "logLevel: info"
      echo "rtspAddress: 127.0.0.1:$RTSP_PORT"
      echo "protocols: [tcp]"
      echo "rtmp: no"; echo "hls: no"; echo "webrtc: no"; echo "srt: no"; echo "api: no"; echo "metrics: no"; echo "playback: no"
      echo "authInternalUsers:"
      IFS=',' read -ra entries <<<"$RTSP_AUTH"
      for entry in "${entries[@]}"; do
        [[ -z "$entry" ]] && continue
        path="${entry%%=*}"; cred="${entry#*=}"
        echo "- user: ${cred%%:*}"; echo "  pass: ${cred#*:}"; echo "  permissions:"
        echo "  - action: publish"; echo "    path: $path"; echo "  - action: read"; echo "    path: $path"
      done
      echo "- user: any"; echo "  permissions:"
      # Anonymous access everywhere except the protected paths.
      prefixes=""
      for entry in "${entries[@]}"; do [[ -n "$entry" ]] && prefixes+="${prefixes:+|}${entry%%=*}"; done
      regex="~^.*\$"; [[ -n "$prefixes" ]] && regex="~^(?!($prefixes)\$).*\$"
      echo "  - action: publish"; echo "    path: '$regex'"; echo "  - action: read"; echo "    path: '$regex'"
      echo "paths:"; echo "  all_others:"
    } >"$run/mediamtx.yml"
    args=("$run/mediamtx.yml")
  else
    args=(-listen "127.0.0.1:$RTSP_PORT")
    [[ -n "$RTSP_AUTH" ]] && args+=(-auth "$RTSP_AUTH")
  fi
  setsid nohup "$bin" "${args[@]}" >"$run/server.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    port_open "$RTSP_PORT" && break
    alive "$pidfile" || { cat "$run/server.log" >&2; echo "rtsp: server exited" >&2; exit 1; }
    sleep 0.1
  done
  port_open "$RTSP_PORT" || { cat "$run/server.log" >&2; echo "rtsp: server did not listen within 10 s" >&2; exit 1; }
  echo "rtsp: $RTSP_SERVER listening on 127.0.0.1:$RTSP_PORT (pid $(cat "$pidfile"))"
fi

if [[ -n "$RTSP_PUBLISH" ]]; then
  pubpid="$run/publish-${RTSP_PUBLISH_PATH//\//_}.pid"
  if alive "$pubpid"; then
    echo "rtsp: already publishing on $RTSP_PUBLISH_PATH"
    exit 0
  fi
  cred=""
  IFS=',' read -ra entries <<<"$RTSP_AUTH"
  for entry in "${entries[@]}"; do [[ "${entry%%=*}" == "$RTSP_PUBLISH_PATH" ]] && cred="${entry#*=}@"; done
  setsid nohup ffmpeg -hide_banner -nostdin -loglevel warning -re -stream_loop -1 -i "$RTSP_PUBLISH" \
    -map 0:v:0 -c copy -f rtsp -rtsp_transport tcp "rtsp://${cred}127.0.0.1:$RTSP_PORT/$RTSP_PUBLISH_PATH" \
    >"$run/publish.log" 2>&1 </dev/null &
  echo $! >"$pubpid"
  echo "rtsp: publishing $RTSP_PUBLISH on rtsp://127.0.0.1:$RTSP_PORT/$RTSP_PUBLISH_PATH"
fi
