#!/usr/bin/env bash
# Stops the server start.sh started for POSTGRES_PORT: fast shutdown (rolls
# back open transactions, checkpoints), immediate if that hangs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
POSTGRES_PORT="${POSTGRES_PORT:-55432}"
POSTGRES_HOME="${POSTGRES_HOME:-$repo/.cache/postgres}"
POSTGRES_OS_USER="${POSTGRES_OS_USER:-postgres}"
if [[ -z "${POSTGRES_BIN:-}" ]]; then
  POSTGRES_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
data="$POSTGRES_HOME/$POSTGRES_PORT/data"

as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u "$POSTGRES_OS_USER" -- "$@"; else "$@"; fi
}

if [[ ! -f "$data/PG_VERSION" ]] || ! as_owner "$POSTGRES_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  echo "postgres: not running on port $POSTGRES_PORT"
  exit 0
fi
as_owner "$POSTGRES_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null \
  || as_owner "$POSTGRES_BIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null
echo "postgres: stopped (port $POSTGRES_PORT)"
