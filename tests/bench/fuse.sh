#!/bin/sh
# tests/bench/fuse.sh — the FUSE mount benchmark (not part of `make check`).
#
#  1. Cached sequential read through the mount vs reading the cache file
#     directly: a RG_BENCH_FUSE_MB (default 512) MiB title is downloaded once
#     through the mount from a loopback seeder (cold throughput printed);
#     then, best of 3 rounds each, dd bs=1M of the cache file and of the
#     mounted file, with both files' page cache dropped before every round
#     (dd iflag=nocache count=0: only these files, not the whole machine),
#     and once more with the page cache warm. Target: mount/direct >= 0.5
#     with a cold page cache.
#  2. The scanner storm: tests/fuse-storm.sh with RG_BENCH_STORM_TITLES
#     (default 100) titles; its wall time and the daemon's memory.
# Prints a table (also saved under $RG_BUILDDIR/bench-out/). Exit 0 when the
# target is met, 1 otherwise, 77 without FUSE.
. "$(dirname "$0")/../lib/common.sh"
need dd

MB=${RG_BENCH_FUSE_MB:-512}
TITLES=${RG_BENCH_STORM_TITLES:-100}
. "$(dirname "$0")/../lib/fuse.sh"

avail=$(df --output=avail -B1 "$T" | tail -1 | tr -d ' ')
[ "${avail:-0}" -ge $((MB * 1048576 * 3)) ] || skip_all "needs $((MB * 3)) MiB free under ${TMPDIR:-/tmp}"

mkdir -p "$T/src" "$MNT"
SRC=$T/src/Bench.Fuse.Movie.2024.2160p.REMUX-RG.mkv
make_random "$SRC" "$MB"
seed_ours seeder 127.0.0.2 "$SRC" --piece-size 1048576
start_daemon bench-fuse "mount=$MNT"
wait_until 15 mounted || die "no mount: $(grep -h 'no FUSE mount' "$DATA/reelgate.log" | tail -1)"
add_link "$MAGNET"
has1() { api GET /api/library >/dev/null; [ "$(jget 'len(j["entries"])' "$BODY" 2>/dev/null)" = 1 ]; }
wait_until 60 has1 || die "no library entry"
P=$(jget 'j["entries"][0]["path"]' "$BODY")
F=$MNT/$P
wait_until 10 test -f "$F" || die "$F did not appear"


mibs() { # FILE — drop nothing; read with dd bs=1M, print MiB/s
  local t0 t1
  t0=$(date +%s%N)
  dd if="$1" of=/dev/null bs=1M status=none || return 1
  t1=$(date +%s%N)
  python3 -c "print('%.0f' % ($MB * 1e9 / max(1, $t1 - $t0)))"
}
drop() { sync "$1" 2>/dev/null; dd if="$1" iflag=nocache count=0 status=none 2>/dev/null; }

t0=$(now_ms)
COLD=$(mibs "$F") || die "the first read through the mount failed"
note "cold read through the mount (from the seeder): $COLD MiB/s in $(($(now_ms) - t0)) ms"
cmp -s "$SRC" "$F" || die "the mounted file differs from the source"
CF=$(find "$DATA" -path "*/cache/*" -type f -size +$((MB - 1))M | head -1)
[ -n "$CF" ] || die "cannot find the cache file under $DATA"
note "cache file: $CF"

best() { sort -n | tail -1; }
D_COLD=$(for r in 1 2 3; do drop "$CF"; drop "$F"; mibs "$CF"; done | best)
M_COLD=$(for r in 1 2 3; do drop "$CF"; drop "$F"; mibs "$F"; done | best)
mibs "$CF" >/dev/null; mibs "$F" >/dev/null
D_WARM=$(for r in 1 2 3; do mibs "$CF"; done | best)
M_WARM=$(for r in 1 2 3; do mibs "$F"; done | best)
RATIO=$(python3 -c "print('%.2f' % ($M_COLD / max(1, $D_COLD)))")
RATIO_W=$(python3 -c "print('%.2f' % ($M_WARM / max(1, $D_WARM)))")
stop_daemon

# ---- the storm
STORM_LOG=$T/storm.log
t0=$(now_ms)
RG_STORM_TITLES=$TITLES bash "$(dirname "$0")/../fuse-storm.sh" >"$STORM_LOG" 2>&1
STORM_RC=$?
STORM_LINE=$(grep -m1 '^# storm:' "$STORM_LOG" | sed 's/^# //')
MEM_LINE=$(grep -m1 '^# daemon memory:' "$STORM_LOG" | sed 's/^# //')
PLAY_LINES=$(grep '^# played' "$STORM_LOG" | sed 's/^# /  /')

OUT=$(
  echo "reelgate FUSE benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $MB MiB file"
  printf '%-52s %10s %10s\n' "measure" "value" "target"
  printf '%-52s %10s %10s\n' "cold read via the mount (download), MiB/s" "$COLD" "-"
  printf '%-52s %10s %10s\n' "cache file direct, page cache dropped, MiB/s" "$D_COLD" "-"
  printf '%-52s %10s %10s\n' "via the mount, page cache dropped, MiB/s" "$M_COLD" "-"
  printf '%-52s %10s %10s\n' "ratio mount/direct (page cache dropped)" "$RATIO" ">= 0.5"
  printf '%-52s %10s %10s\n' "cache file direct, warm, MiB/s" "$D_WARM" "-"
  printf '%-52s %10s %10s\n' "via the mount, warm (kernel page cache), MiB/s" "$M_WARM" "-"
  printf '%-52s %10s %10s\n' "ratio mount/direct (warm)" "$RATIO_W" "-"
  echo "scanner storm (tests/fuse-storm.sh, exit $STORM_RC): ${STORM_LINE:-no result}"
  echo "  ${MEM_LINE:-}"
  echo "$PLAY_LINES"
)
echo "$OUT" | sed 's/^/# /'
mkdir -p "$RG_BUILDDIR/bench-out" 2>/dev/null &&
  echo "$OUT" >"$RG_BUILDDIR/bench-out/fuse-$(date -u +%Y%m%dT%H%M%S).txt"
check "mount/direct ratio with a cold page cache >= 0.5 ($RATIO)" python3 -c "import sys; sys.exit(0 if $RATIO >= 0.5 else 1)"
check "the storm test passed" test "$STORM_RC" = 0
finish
