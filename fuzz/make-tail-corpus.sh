#!/bin/sh
# Makes the seed corpus of fuzz-tail (tiny Matroska and MP4 files in the
# layouts the tail locator handles) into DIR. Media is generated, never
# committed. Needs ffmpeg; mkvmerge (mkvtoolnix) adds its layouts if present.
set -eu
dir=${1:-fuzz/corpus/fuzz-tail}
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=10 \
  -f lavfi -i sine=frequency=440 -t 2 -c:v libx264 -preset ultrafast -g 5 \
  -c:a aac -b:a 16k "$@"; }
ff "$dir/mkv-ffmpeg.mkv"
ff -reserve_index_space 4096 "$dir/mkv-cues-front.mkv"
ff "$dir/mp4-moov-end.mp4"
ff -movflags +faststart "$dir/mp4-faststart.mp4"
ff -movflags +frag_keyframe+empty_moov "$dir/mp4-fragmented.mp4"
if command -v mkvmerge >/dev/null 2>&1; then
  mkvmerge -q -o "$dir/mkv-mkvmerge.mkv" "$dir/mkv-ffmpeg.mkv"
  mkvmerge -q --clusters-in-meta-seek -o "$dir/mkv-tail-seekhead.mkv" "$dir/mkv-ffmpeg.mkv"
fi
