#!/usr/bin/env bash
# Starts Debian's PostgreSQL (15) for development and tests: initdb on first
# use, trust auth for local connections only (127.0.0.1), a `crowdlens`
# database, and waits until it accepts connections. Idempotent: a server
# already running on this data dir is left alone.
#
# PostgreSQL refuses to run as root, so as root it runs as POSTGRES_OS_USER.
#
# Env:
#   POSTGRES_PORT     TCP port on 127.0.0.1 (default 55432)
#   POSTGRES_HOME     state dir (default <repo>/.cache/postgres, or /var/tmp/crowdlens-postgres/<hash>
#                     when the server's user cannot reach the checkout; see common.sh); data in $POSTGRES_HOME/<port>/data
#   POSTGRES_BIN      server binaries (default: newest /usr/lib/postgresql/*/bin)
#   POSTGRES_OS_USER  OS user to run as when invoked as root (default postgres)
#   POSTGRES_DB       database to create (default crowdlens)
# Connect: postgres://postgres@127.0.0.1:$POSTGRES_PORT/crowdlens
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
resolve_postgres_home create
[[ -x "$POSTGRES_BIN/postgres" ]] || {
  echo "postgres: no server binaries found (apt-get install postgresql, or set POSTGRES_BIN)" >&2
  exit 1
}

base="$POSTGRES_HOME/$POSTGRES_PORT"
data="$base/data"
sock="$base/run"
log="$base/server.log"

psql_admin() {
  as_owner "$POSTGRES_BIN/psql" -X -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

mkdir -p "$base" "$sock"
if [[ "$(id -u)" == 0 ]]; then chown "$POSTGRES_OS_USER" "$base" "$sock"; fi

if [[ ! -f "$data/PG_VERSION" ]]; then
  as_owner "$POSTGRES_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; exit 1; }
  # Trust is for a loopback-only dev/test server: nothing else can reach it.
  cat >>"$data/postgresql.conf" <<CONF

# crowdlens deploy/postgres/start.sh
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$sock'
max_connections = 200
CONF
  echo "postgres: initialised $data"
fi

started_ms=$(date +%s%3N)
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if as_owner "$POSTGRES_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # Said plainly: a server someone else started (an earlier test run) is not a fresh one.
  echo "postgres: reusing the server already running on 127.0.0.1:$POSTGRES_PORT (data $data); POSTGRES_PORT=$POSTGRES_PORT deploy/postgres/stop.sh stops it"
elif port_open "$POSTGRES_PORT"; then
  echo "postgres: port $POSTGRES_PORT is taken by another process (not the server of $data); stop it or set POSTGRES_PORT" >&2
  exit 1
else
  # setsid: the server gets its own session, so signals meant for the caller (a test runner) miss it.
  as_owner setsid -w "$POSTGRES_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $POSTGRES_PORT" start >/dev/null \
    || { tail -n 30 "$log" >&2; exit 1; }
fi

until as_owner "$POSTGRES_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT"; do
  if (( $(date +%s%3N) - started_ms > 60000 )); then echo "postgres: not ready after 60s; see $log" >&2; exit 1; fi
  sleep 0.2
done

if [[ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$POSTGRES_DB'")" ]]; then
  psql_admin -c "CREATE DATABASE \"$POSTGRES_DB\""
fi
echo "postgres: ready on 127.0.0.1:$POSTGRES_PORT (database $POSTGRES_DB) in $(( $(date +%s%3N) - started_ms )) ms"
