#!/usr/bin/env bash
# Installs the system tools the tests talk to for real: ffmpeg (capture),
# Chromium (browser tests), PostgreSQL (distributed store), GStreamer's RTSP
# server (a second, independent RTSP server for ingest tests), promtool (from
# the prometheus package: checks deploy/prometheus/alerts.yml). Kafka is fetched
# from Maven Central by deploy/kafka/fetch.sh; the Python tools' venv by
# scripts/python-env.sh. Idempotent: skips what is already installed.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
# opencv-doc ships vtest.avi, real elevated CCTV footage for the person detector tests.
[ -f /usr/share/doc/opencv-doc/examples/data/vtest.avi ] || need+=(opencv-doc)
# promtool checks and unit-tests deploy/prometheus/alerts.yml.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# GStreamer's RTSP server driven from the system Python (test/support/gst-rtsp-server.py): the
# server and its bindings, qtdemux + rtph264pay (good) and h264parse (bad) to serve an MP4's H.264.
gst_ok='import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer; Gst.init(None)
assert all(Gst.ElementFactory.find(e) for e in ("qtdemux", "h264parse", "rtph264pay"))'
/usr/bin/python3 -c "$gst_ok" >/dev/null 2>&1 || need+=(gstreamer1.0-rtsp python3-gst-1.0 gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: ffmpeg, chromium, postgresql, opencv-doc, gstreamer and promtool already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-system: installing ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "setup-system: done"
