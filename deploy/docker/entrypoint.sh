#!/bin/sh
# The app image's entrypoint: one image, the role from CROWDLENS_ROLE.
#
# Ingest in a Kubernetes StatefulSet: the pod's name ends in its ordinal
# (crowdlens-ingest-2), so with CROWDLENS_INGEST_REPLICAS set and no explicit
# CROWDLENS_INGEST_SHARD, this pod reads shard "<ordinal>/<replicas>".
# The config file defaults to /etc/crowdlens/crowdlens.yaml when one is mounted.
set -eu

if [ -z "${CROWDLENS_CONFIG:-}" ] && [ -f /etc/crowdlens/crowdlens.yaml ]; then
  export CROWDLENS_CONFIG=/etc/crowdlens/crowdlens.yaml
fi
if [ -z "${CROWDLENS_SECRETS_FILE:-}" ] && [ -f /etc/crowdlens/secrets/secrets.yaml ]; then
  export CROWDLENS_SECRETS_FILE=/etc/crowdlens/secrets/secrets.yaml
fi

if [ -n "${CROWDLENS_INGEST_REPLICAS:-}" ] && [ -z "${CROWDLENS_INGEST_SHARD:-}" ]; then
  name="${CROWDLENS_POD_NAME:-$(hostname)}"
  ordinal="${name##*-}"
  case "$ordinal" in
    '' | *[!0-9]*)
      echo "entrypoint: CROWDLENS_INGEST_REPLICAS is set but the pod name \"$name\" does not end in -<ordinal> (a StatefulSet pod's does)" >&2
      exit 64
      ;;
  esac
  export CROWDLENS_INGEST_SHARD="$ordinal/$CROWDLENS_INGEST_REPLICAS"
  echo "entrypoint: ingest shard $CROWDLENS_INGEST_SHARD from pod $name" >&2
fi

case "${1:-}" in
  hash-password) shift; exec node /app/dist/scripts/hash-password.js "$@" ;;
  node | sh | bash) exec "$@" ;;
esac
exec node /app/dist/apps/embedded/src/main.js "$@"
