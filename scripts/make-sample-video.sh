#!/usr/bin/env bash
# Regenerates assets/sample.mp4, the bundled demo "camera": slow pans over real
# photographs of men and women (provenance and licences in
# assets/sample-sources/README.md), so the embedded demo yields both male and
# female counts.
#
# Each scene is one still image, cropped by a window that moves a little every
# frame and scaled to 640x360. Crop windows are sized so that faces are roughly
# 90-160 px tall in the output (what the Tiny detector at inputSize 416 finds
# reliably), and pans are slow (< 100 px/s in the output) so that even at a
# 2-5 fps analysis rate consecutive boxes of one face overlap and the IoU
# tracker keeps one id per person. Hard cuts between scenes are deliberate:
# they look like people leaving and new ones entering.
#
# Usage: scripts/make-sample-video.sh [output.mp4]   (needs ffmpeg with libx264)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/assets/sample-sources"
OUT="${1:-$ROOT/assets/sample.mp4}"
FFMPEG="${FFMPEG:-ffmpeg}"
FPS=10
W=640
H=360

# image | seconds | crop width | crop height | x start | x end | y start | y end
# (source-pixel coordinates; crop aspect is 16:9 so the scale is uniform)
SCENES=(
  "screenshot-faceid.jpg     4 457  257    0   60   80  110"  # one man, large face
  "screenshot-facematch.jpg  5 457  257    0  350  270  275"  # grid row 1: men
  "sample1.jpg               5 1164 655    0  756  200  230"  # three women
  "screenshot-facematch.jpg  5 457  257  200  550  610  600"  # grid rows 4-5: women
  "screenshot-facedetect.jpg 5 533  300    0  267  262  268"  # one man, four women
  "messi5.jpg                4 274  154  120  160   30   40"  # footballer (man), small face upscaled
  "sample6.jpg               5 1164 655  756    0  200  220"  # four women
  "screenshot-facematch.jpg  5 457  257 1460 1100  270  280"  # grid row 1-2 right: mostly men
  "sample3.jpg               3 1164 655    0  600  150  170"  # three women
  "screenshot-facematch.jpg  3 457  257 1460 1200  697  690"  # grid rows 5-6 right: mixed
)

inputs=()
filters=""
labels=""
i=0
for scene in "${SCENES[@]}"; do
  read -r img secs cw ch x0 x1 y0 y1 <<<"$scene"
  [[ -f "$SRC/$img" ]] || { echo "missing source image: $SRC/$img" >&2; exit 1; }
  inputs+=(-loop 1 -framerate "$FPS" -t "$secs" -i "$SRC/$img")
  # t runs 0..secs within each still input, so the window moves linearly.
  filters+="[$i:v]format=rgb24,crop=w=$cw:h=$ch:x='$x0+($x1-$x0)*t/$secs':y='$y0+($y1-$y0)*t/$secs',"
  filters+="scale=$W:$H:flags=bicubic,setsar=1,format=yuv420p[s$i];"
  labels+="[s$i]"
  i=$((i + 1))
done
filters+="${labels}concat=n=$i:v=1:a=0[v]"

mkdir -p "$(dirname "$OUT")"
"$FFMPEG" -hide_banner -loglevel error -y "${inputs[@]}" \
  -filter_complex "$filters" -map '[v]' \
  -r "$FPS" -c:v libx264 -preset slow -crf 26 -g $((FPS * 2)) -pix_fmt yuv420p \
  -movflags +faststart -an "$OUT"

echo "wrote $OUT ($(stat -c %s "$OUT") bytes)"
