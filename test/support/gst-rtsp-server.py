#!/usr/bin/python3
"""An RTSP server that is not CrowdLens's own: GStreamer's gst-rtsp-server (Debian
gstreamer1.0-rtsp, python3-gst-1.0, gir1.2-gst-rtsp-server-1.0; scripts/setup-system.sh).

Serves an H.264 MP4 (the sample video by default) as it is, without re-encoding, at
rtsp://127.0.0.1:PORT/PATH. Each client gets its own pipeline, played in real time from the
start of the file; at the end of the file the stream ends. Prints one line, "listening <url>",
once clients can connect, and runs until SIGTERM or SIGINT.

Run it with the system Python (/usr/bin/python3): the GObject bindings are Debian packages.
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/sample", help="mount point, e.g. /sample")
    parser.add_argument("--file", required=True, help="an MP4 file with an H.264 video track")
    args = parser.parse_args()
    if not os.path.isfile(args.file):
        print(f"gst-rtsp-server: no such file: {args.file}", file=sys.stderr)
        return 2

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    # The file's own H.264, demuxed and packetised: what an IP camera sends, no encoder needed.
    location = args.file.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! qtdemux ! h264parse ! '
        "rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(False)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"gst-rtsp-server: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"listening rtsp://127.0.0.1:{args.port}{args.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
