#!/usr/bin/env bash
# Installs the RTSP server that development and the tests use, into
# .cache/rtsp/ (gitignored). Idempotent: a binary already built from the same
# source/version is kept.
#
#   RTSP_SERVER=relay     (default) build deploy/rtsp/relay, a small RTSP
#                         server written for the tests (Go standard library
#                         only, builds offline in a couple of seconds)
#   RTSP_SERVER=mediamtx  build mediamtx $MEDIAMTX_VERSION with `go install`
#                         through the Go module proxy; when the proxy serves
#                         the module but `go install` refuses it (replace
#                         directives, files that `go generate` must create),
#                         the downloaded module is built with those files
#                         stubbed. Fails if the proxy does not serve the version.
#
# Prints the server binary's path on its last line.
#
# Env: RTSP_HOME (default <repo>/.cache/rtsp), RTSP_SERVER, MEDIAMTX_VERSION.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
RTSP_HOME="${RTSP_HOME:-$repo/.cache/rtsp}"
RTSP_SERVER="${RTSP_SERVER:-relay}"
# Pinned; see docs/ingest.md for the state of the proxy on this project's machines.
MEDIAMTX_VERSION="${MEDIAMTX_VERSION:-v1.9.3}"
mkdir -p "$RTSP_HOME"

command -v go >/dev/null || { echo "rtsp: go is not installed (needed to build the RTSP server)" >&2; exit 1; }

install_relay() {
  local bin="$RTSP_HOME/crowdlens-rtsp-relay" stamp="$RTSP_HOME/crowdlens-rtsp-relay.sha256" sum
  sum="$(cat "$here/relay/go.mod" "$here/relay/main.go" | sha256sum | cut -d' ' -f1)"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    echo "rtsp: relay up to date" >&2
  else
    echo "rtsp: building relay" >&2
    (cd "$here/relay" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -o "$bin.tmp" .)
    mv "$bin.tmp" "$bin"
    echo "$sum" >"$stamp"
  fi
  echo "$bin"
}

install_mediamtx() {
  local bin="$RTSP_HOME/mediamtx-$MEDIAMTX_VERSION"
  if [[ -x "$bin" ]]; then
    echo "rtsp: mediamtx $MEDIAMTX_VERSION already built" >&2
    echo "$bin"
    return
  fi
  local gobin="$RTSP_HOME/gobin"
  mkdir -p "$gobin"
  echo "rtsp: go install github.com/bluenviron/mediamtx@$MEDIAMTX_VERSION" >&2
  if GOBIN="$gobin" CGO_ENABLED=0 go install "github.com/bluenviron/mediamtx@$MEDIAMTX_VERSION" >&2; then
    mv "$gobin/mediamtx" "$bin"
    echo "$bin"
    return
  fi
  echo "rtsp: go install failed; building the module source instead" >&2
  local info dir work
  info="$(go mod download -json "github.com/bluenviron/mediamtx@$MEDIAMTX_VERSION")" || {
    echo "rtsp: the Go module proxy does not serve mediamtx $MEDIAMTX_VERSION; use RTSP_SERVER=relay" >&2
    exit 1
  }
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")"
  [[ -d "$dir" ]] || { echo "rtsp: go mod download gave no source dir: $info" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  # Files mediamtx creates with `go generate` (they download from the web): the
  # version string, and hls.js for the HLS player page the tests never open.
  echo "$MEDIAMTX_VERSION" >"$work/internal/core/VERSION"
  find "$work/internal" -name '*.go' -print0 | xargs -0 grep -l 'go:embed hls.min.js' 2>/dev/null |
    while read -r f; do : >"$(dirname "$f")/hls.min.js"; done
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -o "$bin.tmp" .) >&2
  mv "$bin.tmp" "$bin"
  echo "$bin"
}

case "$RTSP_SERVER" in
  relay) install_relay ;;
  mediamtx) install_mediamtx ;;
  *) echo "rtsp: RTSP_SERVER must be relay or mediamtx, not '$RTSP_SERVER'" >&2; exit 2 ;;
esac
