#!/bin/sh
# tests/bench/hls.sh — the HLS benchmark (not part of `make check`).
#
# A 720p H.264 title (default 120 s, ~5 Mbit/s, generated once into a cache
# dir outside the tree) in two Matroska variants: AAC audio (copied) and
# 5.1 AC3 audio (transcoded to AAC stereo). Both are seeded on loopback and
# read once in full through /stream, so every byte is cached. Each variant
# is measured twice, as MPEG-TS (the H.264 default) and as fMP4 (?fmp4=1,
# init.mp4 + .m4s), the fMP4 run on a hard-linked twin of the file
# (VARIANT-fmp4.mkv, in $RG_BENCH_CACHE/hls-SECS-twins) so that its index
# is cold too. Per variant and format:
#   * time to first segment: index.m3u8 → video.m3u8 → (init.mp4 →) the
#     first segment, the file's index not yet built (what a browser waits
#     before the first frame);
#   * median time of one segment in the middle (index cached), i.e. a seek;
#   * remux speed: every segment fetched one after another, × realtime;
#   * daemon CPU seconds per minute of video over that whole pass.
# Prints a table and saves it under $RG_BUILDDIR/bench-out/. Exit 0 when
# every target is met, 1 otherwise, 77 when tools are missing.
#
# Knobs: RG_BENCH_HLS_SECS (title length, default 120), RG_BENCH_CACHE.
. "$(dirname "$0")/../lib/common.sh"
need ffmpeg ffprobe

SECS=${RG_BENCH_HLS_SECS:-120}
CACHE=${RG_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reelgate-bench}
mkdir -p "$CACHE" || skip_all "cannot create $CACHE"
SRC=$CACHE/hls-$SECS
mkdir -p "$SRC"
if [ ! -s "$SRC/aac.mkv" ] || [ ! -s "$SRC/ac3.mkv" ]; then
  note "generating the $SECS s 720p title into $SRC (once)"
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$SECS" \
    -vf noise=alls=20:allf=t -c:v libx264 -preset ultrafast -tune zerolatency -bf 2 \
    -b:v 5M -maxrate 5M -bufsize 10M -g 50 -pix_fmt yuv420p \
    -c:a aac -b:a 128k -ac 2 "$SRC/aac.part.mkv" >"$T/ffmpeg.out" 2>&1 &&
    mv "$SRC/aac.part.mkv" "$SRC/aac.mkv" ||
    die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"
  ffmpeg -nostdin -v error -y -i "$SRC/aac.mkv" -map 0 -c:v copy -c:a ac3 -ac 6 -b:a 448k \
    "$SRC/ac3.part.mkv" >"$T/ffmpeg.out" 2>&1 && mv "$SRC/ac3.part.mkv" "$SRC/ac3.mkv" ||
    die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"
fi
# What is seeded: the two files and their fMP4 twins, hard links in a
# sibling dir (the title's own dir stays as generated).
TW=$CACHE/hls-$SECS-twins
mkdir -p "$TW" || die "cannot create $TW"
for v in aac ac3; do
  for n in "$v" "$v-fmp4"; do
    [ "$TW/$n.mkv" -ef "$SRC/$v.mkv" ] && continue
    rm -f "$TW/$n.mkv"
    ln "$SRC/$v.mkv" "$TW/$n.mkv" 2>/dev/null || cp "$SRC/$v.mkv" "$TW/$n.mkv" || die "cannot link $n.mkv"
  done
done
cat "$TW"/*.mkv >/dev/null

seed_ours seed 127.0.0.2 "$TW" --piece-size 1048576
start_daemon bench
add_link "$MAGNET"
wait_metadata "$HASH" 30 || die "no metadata"
torrent "$HASH"
CLK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
ms() { awk -v t="$1" 'BEGIN { printf "%.0f", t * 1000 }'; }
K=api_key=$API_KEY

declare -A R
for run in aac.ts aac.fmp4 ac3.ts ac3.fmp4; do
  v=${run%.*} f=${run#*.}
  name=$v.mkv Q=''
  [ "$f" = fmp4 ] && name=$v-fmp4.mkv Q='fmp4=1&'
  i=$(jget "[i for i, f in enumerate(j['files']) if f['path'].endswith('/$name')][0]" "$BODY")
  U=$(jget "files.$i.stream_url" "$BODY")
  curl -sf --noproxy '*' -o /dev/null "$U" || die "cannot read $name through /stream"
  H=$URL/hls/$HASH/$i
  # first segment, index not built yet
  t0=$(date +%s%N)
  curl -sf --noproxy '*' -o "$T/master" "$H/index.m3u8?$Q$K" || die "master of $run"
  VP=$(grep -v '^#' "$T/master" | head -1)
  curl -sf --noproxy '*' -o "$T/media" "$H/$VP" || die "media playlist of $run"
  MAP=$(sed -n 's/^#EXT-X-MAP:URI="\(.*\)"$/\1/p' "$T/media")
  [ -z "$MAP" ] || curl -sf --noproxy '*' -o /dev/null "$H/$MAP" || die "init.mp4 of $run"
  S0=$(grep -v '^#' "$T/media" | head -1)
  curl -sf --noproxy '*' -o /dev/null "$H/$S0" || die "seg-0 of $run"
  R[$run.first]=$((($(date +%s%N) - t0) / 1000000))
  case "$f:$S0" in ts:seg-0.ts*|fmp4:seg-0.m4s*) ;; *) die "$run: unexpected first segment $S0" ;; esac
  NSEG=$(grep -c '^#EXTINF' "$T/media")
  # one segment in the middle (a seek), median of 5
  mid=()
  for k in $((NSEG / 2)) $((NSEG / 2 + 1)) $((NSEG / 3)) $((NSEG * 2 / 3)) $((NSEG / 4)); do
    u=$(grep -v '^#' "$T/media" | sed -n "$((k + 1))p")
    mid+=("$(curl -sf --noproxy '*' -o /dev/null -w '%{time_total}' "$H/$u")")
  done
  R[$run.seek]=$(ms "$(printf '%s\n' "${mid[@]}" | sort -g | sed -n 3p)")
  # the whole title, segment after segment
  grep -v '^#' "$T/media" | sed "s|^|$H/|" >"$T/urls"
  c0=$(cpu_ticks "$DPID")
  t0=$(date +%s%N)
  bytes=0
  while read -r u; do
    b=$(curl -sf --noproxy '*' -o /dev/null -w '%{size_download}' "$u") || die "segment $u of $run"
    bytes=$((bytes + b))
  done <"$T/urls"
  wall=$((($(date +%s%N) - t0) / 1000000))
  c1=$(cpu_ticks "$DPID")
  R[$run.speed]=$(awk -v s="$SECS" -v w="$wall" 'BEGIN { printf "%.1f", s / (w / 1000) }')
  R[$run.cpu]=$(awk -v c=$((c1 - c0)) -v k="$CLK" -v s="$SECS" 'BEGIN { printf "%.2f", c / k / (s / 60) }')
  R[$run.mb]=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
  R[$run.nseg]=$NSEG
done

verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = op == "<" ? a < b : a >= b; print ok ? "ok" : "MISSED" }'; }
OUT=$T/hls-bench.txt
RUNS="aac.ts aac.fmp4 ac3.ts ac3.fmp4"
# row LABEL KEY TARGET OP LIMIT — one metric for the four runs
row() {
  local label=$1 key=$2 target=$3 op=${4:-} lim=${5:-} r vals=() res=()
  for r in $RUNS; do
    vals+=("${R[$r.$key]}")
    [ -n "$op" ] && res+=("$(verdict "${R[$r.$key]}" "$op" "$lim")")
  done
  printf '%-44s %8s %8s %8s %8s %-7s %s\n' "$label" "${vals[@]}" "$target" "$(IFS=/; echo "${res[*]:-}")"
}
{
  echo "# reelgate HLS benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
  echo "# title: ${SECS} s 1280x720 H.264 ~5 Mbit/s, MKV; data cached; segments fetched one at a time"
  echo "# columns: AAC audio copied / AC3 5.1 transcoded to AAC, each as MPEG-TS and as fMP4 (?fmp4=1)"
  printf '%-44s %8s %8s %8s %8s %-7s %s\n' metric "AAC TS" "AAC fMP4" "AC3 TS" "AC3 fMP4" target result
  row "first segment, index cold (ms)" first "< 1000" '<' 1000
  row "one segment mid-title, median of 5 (ms)" seek "< 500" '<' 500
  row "remux speed, all ${R[aac.ts.nseg]} segments (x realtime)" speed ">= 10" '>=' 10
  row "daemon CPU s per minute of video" cpu ""
  row "bytes sent for the whole title (MiB)" mb ""
} >"$OUT"
cat "$OUT"
mkdir -p "$RG_BUILDDIR/bench-out" 2>/dev/null &&
  cp "$OUT" "$RG_BUILDDIR/bench-out/hls-$(date -u +%Y%m%dT%H%M%S).txt" 2>/dev/null
missed=$(grep -c MISSED "$OUT")
stop_daemon >/dev/null
if [ "$missed" = 0 ]; then echo "# every target met"; exit 0; fi
echo "# $missed target row(s) missed"
exit 1
