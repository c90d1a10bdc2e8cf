# Sourced by start.sh and stop.sh: the settings both need, and where this
# checkout's servers keep their data.
#
# PostgreSQL refuses to run as root, so as root the server runs as
# POSTGRES_OS_USER, and that user must be able to reach its data directory.
# A checkout under a private directory (mktemp -d is 0700, a home directory
# often is) cannot give it that, so the data then lives under
# /var/tmp/crowdlens-postgres/<hash of the checkout path>: one per checkout,
# stable across calls, so stop.sh finds what start.sh made.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
POSTGRES_PORT="${POSTGRES_PORT:-55432}"
POSTGRES_OS_USER="${POSTGRES_OS_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-crowdlens}"
if [[ -z "${POSTGRES_BIN:-}" ]]; then
  POSTGRES_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi

as_owner() {
  # From /: the caller's directory may be one the server's user cannot enter.
  if [[ "$(id -u)" == 0 ]]; then (cd / && runuser -u "$POSTGRES_OS_USER" -- "$@"); else "$@"; fi
}

pg_fallback_home="/var/tmp/crowdlens-postgres/$(printf '%s' "$repo" | sha1sum | cut -c1-12)"

# Sets POSTGRES_HOME. With "create", makes the directory and picks the
# fallback when the server's user cannot write the default; without, picks
# whichever of the two already holds this port's data (stop.sh).
resolve_postgres_home() {
  if [[ -n "${POSTGRES_HOME:-}" ]]; then return; fi
  local default="$repo/.cache/postgres"
  if [[ "${1:-}" != create ]]; then
    if [[ -f "$pg_fallback_home/$POSTGRES_PORT/data/PG_VERSION" ]]; then POSTGRES_HOME="$pg_fallback_home"; else POSTGRES_HOME="$default"; fi
    return
  fi
  mkdir -p "$default"
  if [[ "$(id -u)" != 0 ]]; then POSTGRES_HOME="$default"; return; fi
  chown "$POSTGRES_OS_USER" "$default"
  if as_owner test -w "$default" 2>/dev/null; then
    POSTGRES_HOME="$default"
  else
    mkdir -p "$pg_fallback_home"
    chmod 755 /var/tmp/crowdlens-postgres "$pg_fallback_home"
    POSTGRES_HOME="$pg_fallback_home"
  fi
}
