#!/bin/sh
# fuse-storm.sh — a Jellyfin-style library scan through the FUSE mount.
#  * RG_STORM_TITLES (default 100) movies, each its own torrent with its own
#    `reelgate seed` process on its own loopback address (a seeder seeds one
#    path; ~20 MB of RSS each), entries made from the release names;
#  * the scan: ffprobe -analyzeduration 200M -probesize 1G -show_streams
#    -show_format -show_chapters on every file, 8 at a time, with
#    max_active_torrents=8 — every probe succeeds, nothing deadlocks, the
#    scan ends in bounded time, the daemon's memory stays bounded
#    (VmHWM/RssAnon printed);
#  * a title being played (a paced sequential reader) during the scan keeps
#    at least 80 % of the throughput it gets alone.
# Prints "storm: N titles in S s" for tests/bench/fuse.sh.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg ffprobe xargs

NT=${RG_STORM_TITLES:-100}
SCAN_MAX_S=${RG_STORM_MAX_S:-600}
HWM_MAX_MB=${RG_STORM_HWM_MAX_MB:-1024}
. "$(dirname "$0")/lib/fuse.sh"

# ---- N distinct small MKVs (one encode, then remuxes with their own tags)
mkdir -p "$T/src" "$MNT"
t0=$(now_ms)
make_video "$T/base.mkv" 16 320x240 1M
title_year() { echo $((1900 + $1)); } # distinct years: "Storm Film (1901)"…
for ((i = 1; i <= NT; i++)); do
  echo "$i"
done | xargs -P2 -I{} sh -c 'ffmpeg -nostdin -v error -y -i "$1/base.mkv" -c copy \
  -metadata title="Storm Film $2" "$1/src/Storm.Film.$((1900 + $2)).1080p.WEB-DL.x264-RG.mkv"' _ "$T" {} ||
  die "could not make the titles"
# two titles to play (random bytes: only throughput matters), not scanned
make_random "$T/src/Played.Alone.2030.2160p.REMUX-RG.mkv" 64
make_random "$T/src/Played.During.2031.2160p.REMUX-RG.mkv" 64
note "made $NT titles ($(du -sh "$T/src" | cut -f1)) in $(($(now_ms) - t0)) ms"

# ---- one seeder per torrent, 127.0.1.x / 127.0.2.x, started together
t0=$(now_ms)
declare -a SEEDERS=()
k=0
for f in "$T"/src/*.mkv; do
  k=$((k + 1))
  ip=127.0.$((1 + k / 200)).$((1 + k % 200))
  spawn "seed-$k" "$RG_BIN" seed --bind "$ip" "$f"
  SEEDERS+=("seed-$k")
done
declare -a MAGNETS=()
for s in "${SEEDERS[@]}"; do
  m=''
  for ((j = 0; j < 240; j++)); do
    m=$(grep -m1 '^magnet:' "$T/$s.out" 2>/dev/null) && break
    alive "${PIDOF[$s]}" || die "seeder $s exited: $(tail -3 "$T/$s.out")"
    sleep 0.25
  done
  [ -n "$m" ] || die "seeder $s printed no magnet"
  MAGNETS+=("$m")
done
TOTAL=${#MAGNETS[@]}
note "$TOTAL seeders up in $(($(now_ms) - t0)) ms"

start_daemon storm "mount=$MNT" max_active_torrents=8 read_timeout_s=60
wait_mount
t0=$(now_ms)
for m in "${MAGNETS[@]}"; do
  add_link "$m"
  [ "$STATUS" = 201 ] || die "add magnet → HTTP $STATUS: $BODY"
done
lib_count() { api GET /api/library >/dev/null; jget 'len(j["entries"])' "$BODY" 2>/dev/null; }
all_in() { [ "$(lib_count)" = "$TOTAL" ]; }
check "$TOTAL library entries (metadata of every torrent) within 300 s" wait_until 300 all_in
note "entries after $(($(now_ms) - t0)) ms"
files_in() { [ "$(find "$MNT" -type f | wc -l)" = "$TOTAL" ]; }
check "$TOTAL files in the mount" wait_until 20 files_in

PLAY_A=$(find "$MNT" -type f -name 'Played Alone*')
PLAY_B=$(find "$MNT" -type f -name 'Played During*')
[ -n "$PLAY_A" ] && [ -n "$PLAY_B" ] || die "the played titles are not in the mount"

# play PATH — reads like a player: 1 MiB every 1/RG_PLAY_MIBS s (default
# 8 MiB/s = 64 Mbit/s, more than a 4K remux), prints "MiB/s got, ms to the
# first byte, longest wait for one read in ms".
cat >"$T/play.py" <<'EOF'
import os, sys, time
path, rate = sys.argv[1], float(os.environ.get("RG_PLAY_MIBS", "8")) * 1048576
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
got, t0, first, worst = 0, time.monotonic(), None, 0.0
while got < size:
    a = time.monotonic()
    b = os.pread(fd, 1048576, got)
    d = time.monotonic() - a
    if first is None: first = d
    worst = max(worst, d)
    if not b: break
    got += len(b)
    ahead = got / rate - (time.monotonic() - t0)
    if ahead > 0: time.sleep(ahead)
el = time.monotonic() - t0
print("%.2f %d %d" % (got / 1048576 / el, first * 1000, worst * 1000))
EOF
read -r RATE_A TTFB_A WORST_A < <(timeout 120 python3 "$T/play.py" "$PLAY_A")
check "the played title alone reads to the end" test -n "${RATE_A:-}"
note "played alone: ${RATE_A:-?} MiB/s (${RG_PLAY_MIBS:-8} asked), first byte ${TTFB_A:-?} ms, longest read ${WORST_A:-?} ms"

# ---- the scan, 8 at a time; memory sampled while it runs
find "$MNT" -type f ! -name 'Played*' -print0 >"$T/files"
: >"$T/failed"
sample_mem() {
  while alive "$DPID"; do
    awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status" >>"$T/rss.samples" 2>/dev/null
    sleep 1
  done
}
sample_mem &
SAMPLER=$!
track $SAMPLER sampler
mkdir -p "$T/probe"
t0=$(now_ms)
xargs -0 -P8 -I{} sh -c '
  out=$2/probe/$(printf "%s" "$1" | md5sum | cut -c1-16).json
  timeout 300 ffprobe -v error -analyzeduration 200M -probesize 1G \
    -show_streams -show_format -show_chapters -of json "$1" >"$out" 2>"$out.err" ||
    printf "%s: %s\n" "$1" "$(head -c 200 "$out.err")" >>"$2/failed"' _ {} "$T" \
  <"$T/files" &
SCAN=$!
sleep 2
read -r RATE_B TTFB_B WORST_B < <(timeout 180 python3 "$T/play.py" "$PLAY_B")
note "played during the scan: ${RATE_B:-none} MiB/s, first byte ${TTFB_B:-?} ms, longest read ${WORST_B:-?} ms"
wait $SCAN
SCAN_MS=$(($(now_ms) - t0))
kill $SAMPLER 2>/dev/null
untrack $SAMPLER
NF=$(tr -cd '\0' <"$T/files" | wc -c)
check_eq "every ffprobe of the scan succeeded" 0 "$(wc -l <"$T/failed")"
[ -s "$T/failed" ] && head -5 "$T/failed" | sed 's/^/# /'
check_eq "every probe found 2 streams" "$NF" "$(cat "$T"/probe/*.json 2>/dev/null | grep -c '"codec_type": "audio"')"
note "storm: $NF titles in $((SCAN_MS / 1000)).$((SCAN_MS % 1000 / 100)) s (8 at a time, max_active_torrents=8)"
check_le "the scan ends within ${SCAN_MAX_S} s (s)" $((SCAN_MS / 1000)) "$SCAN_MAX_S"
check "the daemon is alive after the scan" alive "$DPID"
HWM=$(awk '/^VmHWM/ { print $2 }' "/proc/$DPID/status")
ANON=$(awk '/^RssAnon/ { print $2 }' "/proc/$DPID/status")
PEAK=$(sort -n "$T/rss.samples" 2>/dev/null | tail -1)
note "daemon memory: VmHWM $((HWM / 1024)) MiB, RssAnon $((ANON / 1024)) MiB now, VmRSS peak sampled $((${PEAK:-0} / 1024)) MiB"
check_le "daemon VmHWM stays under ${HWM_MAX_MB} MiB (MiB)" $((HWM / 1024)) "$HWM_MAX_MB"
check "the played title reads to the end during the scan" test -n "${RATE_B:-}"
# The 80 % target is a benchmark figure (tests/bench/fuse.sh measures it);
# on a loaded CI machine a timed check here would only flake, so the ratio
# is reported, not checked.
note "the played title kept $RATE_B of $RATE_A MiB/s during the scan (target ≥ 80 %, see tests/bench/fuse.sh)"
api GET /api/status >/dev/null
note "status after the scan: $(printf '%s' "$BODY" | head -c 400)"
check "the mount still answers" sh -c 'ls -R "$1" >/dev/null' _ "$MNT"
stop_daemon
check "SIGTERM unmounted" sh -c '! awk -v m="$1" "\$5 == m" /proc/self/mountinfo | grep -q .' _ "$MNT"
finish
