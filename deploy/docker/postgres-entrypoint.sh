#!/bin/bash
# Debian's PostgreSQL for the Compose stack: initdb on first start (password
# auth over the network from POSTGRES_PASSWORD_FILE, a Compose secret; the
# Unix socket in /tmp is reachable only inside the container and trusted, for
# `docker compose exec postgres psql -h /tmp`), a database named
# POSTGRES_DB, then the server in the foreground on every interface.
#
# Env: POSTGRES_DB (crowdlens), POSTGRES_USER (crowdlens), POSTGRES_PASSWORD_FILE
#      (required), PGDATA (/var/lib/postgresql/data).
set -euo pipefail

bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
data="${PGDATA:-/var/lib/postgresql/data}"
db="${POSTGRES_DB:-crowdlens}"
user="${POSTGRES_USER:-crowdlens}"
pwfile="${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE to a file holding the password (a Compose secret)}"
[[ -s "$pwfile" ]] || { echo "postgres: $pwfile is empty or unreadable" >&2; exit 1; }

if [[ ! -f "$data/PG_VERSION" ]]; then
  mkdir -p "$data"
  "$bin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --no-locale >/dev/null
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '*'
unix_socket_directories = '/tmp'
max_connections = 200
CONF
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$data/pg_hba.conf"
  echo "host all all ::/0 scram-sha-256" >>"$data/pg_hba.conf"
  # The database is created with the server on the socket only, before it listens on the network.
  "$bin/pg_ctl" -D "$data" -w -o "-c listen_addresses=''" start >/dev/null
  "$bin/psql" -X -q -h /tmp -U "$user" -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\""
  "$bin/pg_ctl" -D "$data" -w stop >/dev/null
  echo "postgres: initialised $data with database $db"
fi
exec "$bin/postgres" -D "$data"
