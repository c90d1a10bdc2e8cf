#!/usr/bin/env bash
# Makes a base image from Debian packages alone (no image registry is needed):
# mmdebstrap lays a minbase rootfs of the given suite with the given packages,
# `docker import` turns it into an image. The tarball is cached under
# .cache/docker/rootfs keyed by suite + packages, so a rebuild imports it again
# in seconds instead of downloading the packages.
#
#   deploy/docker/base-image.sh <image-name> <suite> <package,package,...>
#
# Prints the image's tag (<image-name>:<suite>-<hash of the inputs>) as its last line.
#
# Env: CROWDLENS_ROOTFS_CACHE (default <repo>/.cache/docker/rootfs),
#      CROWDLENS_DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
name="${1:?usage: base-image.sh <image-name> <suite> <packages>}"
suite="${2:?suite}"
packages="${3:?comma-separated packages}"
cache="${CROWDLENS_ROOTFS_CACHE:-$repo/.cache/docker/rootfs}"
mirror="${CROWDLENS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

key="$(printf '%s|%s|%s|v1' "$suite" "$packages" "$mirror" | sha256sum | cut -c1-12)"
tag="$name:$suite-$key"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base-image: $tag already present" >&2
  echo "$tag"
  exit 0
fi
command -v mmdebstrap >/dev/null || {
  echo "base-image: mmdebstrap not found (apt-get install mmdebstrap, or bash scripts/setup-docker.sh)" >&2
  exit 1
}

tarball="$cache/$suite-$key.tar"
mkdir -p "$cache"
if [[ ! -s "$tarball" ]]; then
  started=$(date +%s)
  echo "base-image: mmdebstrap $suite with $packages" >&2
  # No recommends, no docs/man/locales (copyright files stay): the packages'
  # runtime and nothing else. man1 must exist all the same: OpenJDK's postinst
  # registers its man pages with update-alternatives and fails without it.
  mmdebstrap --quiet --format=tar --variant=minbase \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --essential-hook='mkdir -p "$1"/usr/share/man/man1' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    --include="$packages" "$suite" "$cache/partial-$key.tar" "$mirror" >&2
  mv "$cache/partial-$key.tar" "$tarball"
  echo "base-image: rootfs $(du -h "$tarball" | cut -f1) in $(( $(date +%s) - started ))s" >&2
fi
docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' "$tarball" "$tag" >/dev/null
echo "base-image: imported $tag" >&2
echo "$tag"
