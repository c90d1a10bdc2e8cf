#!/usr/bin/env bash
# Stops the server start.sh started for POSTGRES_PORT: fast shutdown (rolls
# back open transactions, checkpoints), immediate if that hangs.
# POSTGRES_PURGE=1 also deletes that server's data directory.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
resolve_postgres_home
data="$POSTGRES_HOME/$POSTGRES_PORT/data"

if [[ ! -f "$data/PG_VERSION" ]] || ! as_owner "$POSTGRES_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  echo "postgres: not running on port $POSTGRES_PORT"
  exit 0
fi
as_owner "$POSTGRES_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null \
  || as_owner "$POSTGRES_BIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null
echo "postgres: stopped (port $POSTGRES_PORT)"
# POSTGRES_PURGE=1: a throwaway server (a test's own) leaves nothing behind.
if [[ "${POSTGRES_PURGE:-0}" == 1 ]]; then rm -rf "${POSTGRES_HOME:?}/$POSTGRES_PORT"; fi
