#!/usr/bin/env bash
# Installs what the container images and their tests need, from Debian
# packages only (no image registry, no GitHub downloads): the Docker engine
# (docker.io), mmdebstrap (base images from Debian packages), and Compose v2
# (the docker-compose plugin from Debian trixie's package: bookworm only has
# Compose v1). Starts dockerd when it is not running and we are root.
# Idempotent.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-docker: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

plugin_dir=/usr/local/lib/docker/cli-plugins
if ! docker compose version >/dev/null 2>&1; then
  # Debian trixie's docker-compose is Compose v2, a static Go binary (libc6 >= 2.34):
  # fetched with apt from a private list, so the system's sources stay as they are.
  apt_dir="$repo/.cache/docker/apt-trixie"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" >"$apt_dir/sources.list"
  o=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives" -o APT::Sandbox::User=root)
  echo "setup-docker: fetching Compose v2 (Debian trixie docker-compose)"
  $SUDO apt-get "${o[@]}" update -qq
  (cd "$apt_dir" && rm -f docker-compose_*.deb && $SUDO apt-get "${o[@]}" download docker-compose >/dev/null)
  extract="$apt_dir/extract"
  rm -rf "$extract"
  dpkg-deb -x "$apt_dir"/docker-compose_*.deb "$extract"
  $SUDO mkdir -p "$plugin_dir"
  $SUDO install -m 0755 "$extract/usr/libexec/docker/cli-plugins/docker-compose" "$plugin_dir/docker-compose"
  docker compose version
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-docker: the docker daemon is not running; start it (sudo systemctl start docker)" >&2
    exit 1
  fi
  echo "setup-docker: starting dockerd (log /var/log/crowdlens-dockerd.log)"
  setsid nohup dockerd >/var/log/crowdlens-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "setup-docker: dockerd did not start; see /var/log/crowdlens-dockerd.log" >&2; exit 1; }
fi
echo "setup-docker: docker $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /')"
