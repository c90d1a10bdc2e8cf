#!/usr/bin/env bash
# What decoding costs per analysed frame, by source resolution and ffmpeg decoder option: the
# ingest's own ffmpeg output (fps filter, scale to 640, rgb24) on the sample clip (640x360, 10 fps:
# what a camera's substream looks like) and on a 1080p 30 fps copy of it (what a main stream looks
# like: made here by upscaling, so its bitrate, not its content, is realistic). Every variant runs
# in each round, rounds interleaved, and the table gives the median CPU (user + sys) of ffmpeg per
# frame it hands to the detector, and the ratio to the default in the same run.
#
#   bench/ingest/decode-cost.sh [rounds]     (default 3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${1:-3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SAMPLE="$ROOT/assets/sample.mp4"
HD="$WORK/hd30.mp4"
echo "making a 20 s 1080p 30 fps H.264 copy of the sample (libx264 veryfast, GOP 60)..." >&2
ffmpeg -v error -y -i "$SAMPLE" -t 20 -vf scale=1920:1080,fps=30 -c:v libx264 -preset veryfast -g 60 \
  -bf 0 -pix_fmt yuv420p "$HD"

# name|decoder options (before -i)
VARIANTS=(
  "default (what CrowdLens runs)|"
  "-threads 1|-threads 1"
  "-skip_loop_filter all|-skip_loop_filter all"
  "-threads 1 -skip_loop_filter all|-threads 1 -skip_loop_filter all"
)

run() { # input, decoder options... -> "cpu_seconds frames"
  local input=$1
  shift
  local frames
  frames=$( { /usr/bin/time -f "%U %S" -o "$WORK/time" ffmpeg -hide_banner -nostdin -nostats -loglevel error "$@" \
    -i "$input" -map 0:v:0 -vf "fps=5,scale=640:-2" -an -f rawvideo -pix_fmt rgb24 pipe:1 | wc -c; } )
  read -r u s <"$WORK/time"
  local w h
  w=640
  h=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$input" |
    awk -F, '{printf "%d", int($2 * 640 / $1 / 2 + 0.5) * 2}')
  echo "$(echo "$u + $s" | bc -l) $((frames / (w * h * 3)))"
}

declare -A samples
for ((r = 1; r <= ROUNDS; r++)); do
  for input in "$SAMPLE" "$HD"; do
    for v in "${VARIANTS[@]}"; do
      name=${v%%|*}
      opts=${v#*|}
      # shellcheck disable=SC2086 # the options are words on purpose
      read -r cpu frames < <(run "$input" $opts)
      key="$(basename "$input")|$name"
      samples[$key]="${samples[$key]:-} $(echo "1000 * $cpu / $frames" | bc -l)"
    done
  done
  echo "round $r of $ROUNDS done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo
echo "### ffmpeg decode + scale per analysed frame (5 fps out, 640 px wide, rgb24; median of $ROUNDS interleaved rounds; load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| source | decoder options | ffmpeg CPU ms per analysed frame | vs default |"
echo "| --- | --- | ---: | ---: |"
for input in "$SAMPLE" "$HD"; do
  label="sample.mp4 (640x360, 10 fps)"
  [[ $input == "$HD" ]] && label="1080p 30 fps copy"
  base=""
  for v in "${VARIANTS[@]}"; do
    name=${v%%|*}
    ms=$(echo "${samples["$(basename "$input")|$name"]}" | median)
    [[ -z $base ]] && base=$ms
    printf '| %s | %s | %.1f | %.2fx |\n' "$label" "$name" "$ms" "$(echo "$ms / $base" | bc -l)"
  done
done
