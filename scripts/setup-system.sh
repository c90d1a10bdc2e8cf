#!/usr/bin/env bash
# Installs the system tools the tests talk to for real: ffmpeg (capture),
# Chromium (browser tests), PostgreSQL (distributed store). Kafka is fetched
# from Maven Central by deploy/kafka/fetch.sh; the Python tools' venv by
# scripts/python-env.sh. Idempotent: skips what is already installed.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
# opencv-doc ships vtest.avi, real elevated CCTV footage for the person detector tests.
[ -f /usr/share/doc/opencv-doc/examples/data/vtest.avi ] || need+=(opencv-doc)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: ffmpeg, chromium, postgresql and opencv-doc already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-system: installing ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "setup-system: done"
