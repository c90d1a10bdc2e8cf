#!/usr/bin/env bash
# Builds CrowdLens's container images offline, from Debian packages and this
# checkout (no image registry is needed):
#
#   deploy/docker/build.sh            # the app image, crowdlens:<version> and crowdlens:latest
#   deploy/docker/build.sh kafka      # crowdlens-kafka: a JRE + the broker jars of deploy/kafka/fetch.sh
#   deploy/docker/build.sh postgres   # crowdlens-postgres: Debian's PostgreSQL
#   deploy/docker/build.sh all
#
# Needs docker (a running daemon), mmdebstrap, and for the app Node 20+ with
# `npm install` done (the app is compiled here and its production dependencies
# are copied from node_modules, native modules included).
#
# Env: CROWDLENS_IMAGE (default crowdlens), CROWDLENS_IMAGE_TAG (default the
#      package version), CROWDLENS_DEBIAN_SUITE (default trixie: Node 20 and
#      ffmpeg 7; bookworm's nodejs is 18), CROWDLENS_SKIP_TSC=1 (dist/ is
#      already built).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
suite="${CROWDLENS_DEBIAN_SUITE:-trixie}"
image="${CROWDLENS_IMAGE:-crowdlens}"
version="$(node -p 'require(process.argv[1]).version' "$repo/package.json")"
tag="${CROWDLENS_IMAGE_TAG:-$version}"
work="$repo/.cache/docker"

command -v docker >/dev/null || { echo "build: docker not found (bash scripts/setup-docker.sh)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build: the docker daemon is not running (start dockerd)" >&2; exit 1; }

ms() { date +%s%3N; }
report() {
  local name="$1" started="$2"
  local bytes
  bytes="$(docker image inspect --format '{{.Size}}' "$name")"
  echo "build: $name $((bytes / 1000000)) MB in $(( ($(ms) - started) / 1000 ))s"
}

# docker build without BuildKit's buildx plugin (Debian's docker.io has none);
# the context is already staged, so the classic builder loses nothing.
docker_build() { DOCKER_BUILDKIT=0 docker build --quiet "$@" >/dev/null; }

build_app() {
  local started
  started=$(ms)
  local base
  base="$("$here/base-image.sh" crowdlens-base-app "$suite" nodejs,ffmpeg,ca-certificates,tini | tail -n 1)"

  if [[ "${CROWDLENS_SKIP_TSC:-}" != 1 ]]; then
    echo "build: compiling the app (npm run build)"
    (cd "$repo" && npm run -s build)
  fi
  [[ -f "$repo/dist/apps/embedded/src/main.js" ]] || { echo "build: dist/ is missing (npm run build)" >&2; exit 1; }

  # Production dependencies only: the packages `npm ls --omit=dev` names,
  # copied from node_modules with the native modules this machine built.
  # Top-level folders carry their nested node_modules with them.
  local modules
  # (npm ls exits 1 over extraneous packages in the tree; the list it prints is still complete.)
  modules="$(cd "$repo" && { npm ls --omit=dev --all --parseable 2>/dev/null || true; } | tail -n +2 |
    sed "s#^$repo/##" | grep -Ev '/node_modules/.*/node_modules/|^node_modules/[^@][^/]*/node_modules/|^node_modules/@[^/]*/[^/]*/node_modules/' | sort -u)"
  [[ -n "$modules" ]] || { echo "build: npm ls found no production dependencies (npm install first)" >&2; exit 1; }

  local ctx="$work/context-app"
  rm -rf "$ctx"
  mkdir -p "$ctx/app"
  cp "$here/Dockerfile" "$ctx/Dockerfile"
  # What the image does not need: other platforms' onnxruntime binaries, the npm
  # ffmpeg (Debian's is on PATH), source maps, type declarations.
  # shellcheck disable=SC2086
  tar -C "$repo" -cf - \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
    --exclude='node_modules/@ffmpeg-installer/linux-x64/ffmpeg' \
    --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' \
    --exclude='dist/bench' \
    package.json package-lock.json dist assets apps/analytics/public \
    deploy/docker/entrypoint.sh deploy/crowdlens.example.yaml $modules |
    tar -C "$ctx/app" -xf -

  docker_build --build-arg "BASE=$base" -t "$image:$tag" -t "$image:latest" "$ctx"
  report "$image:$tag" "$started"
}

build_kafka() {
  local started
  started=$(ms)
  "$repo/deploy/kafka/fetch.sh" >&2
  local base
  base="$("$here/base-image.sh" crowdlens-base-jre "$suite" openjdk-21-jre-headless,ca-certificates,tini | tail -n 1)"
  local ctx="$work/context-kafka"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$here/Dockerfile.kafka" "$ctx/Dockerfile"
  cp "$here/kafka-entrypoint.sh" "$repo/deploy/kafka/log4j2.xml" "$ctx/"
  cp -r "${KAFKA_HOME:-$repo/.cache/kafka}/libs" "$ctx/libs"
  docker_build --build-arg "BASE=$base" -t "$image-kafka:$tag" -t "$image-kafka:latest" "$ctx"
  report "$image-kafka:$tag" "$started"
}

build_postgres() {
  local started
  started=$(ms)
  local base
  base="$("$here/base-image.sh" crowdlens-base-postgres "$suite" postgresql,tini | tail -n 1)"
  local ctx="$work/context-postgres"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$here/Dockerfile.postgres" "$ctx/Dockerfile"
  cp "$here/postgres-entrypoint.sh" "$ctx/"
  docker_build --build-arg "BASE=$base" -t "$image-postgres:$tag" -t "$image-postgres:latest" "$ctx"
  report "$image-postgres:$tag" "$started"
}

case "${1:-app}" in
  app) build_app ;;
  kafka) build_kafka ;;
  postgres) build_postgres ;;
  all) build_app && build_kafka && build_postgres ;;
  *) echo "usage: deploy/docker/build.sh [app|kafka|postgres|all]" >&2; exit 2 ;;
esac
