#!/bin/sh
# tests/bench/warm.sh — the warm-start benchmark (not part of `make check`).
#
# A video title (H.264 + AAC Matroska, ~100 MB, generated once into a cache
# dir outside the tree) is seeded by one of our seeders on 127.0.0.2. It
# measures what a player waits for at open — the first 2 MiB plus the tail
# regions (the media layer's spans, else the fixed tail), fetched over one
# keep-alive connection by an in-process client — and the wall time of
# `ffprobe` on the stream URL:
#   * warm: head and tail in the warmup store, nothing of the title in the
#     torrent cache (a restart with a 1 MiB cache budget evicts it), the
#     torrent not in the session; median of RG_BENCH_RUNS (20) runs;
#   * cold: the title just re-added (metadata known, cache and warmup store
#     empty, the seeder connected anew); median of RG_BENCH_COLD (3) rounds.
# Target: warm open (2 MiB + tail) < 10 ms median. Prints a table and saves
# it under $RG_BUILDDIR/bench-out/. Exit 0 when the target is met, 1
# otherwise, 77 when tools are missing.
#
# Knobs: RG_BENCH_SECS (video length, default 100), RG_BENCH_RUNS,
# RG_BENCH_COLD, RG_BENCH_CACHE (where the video is kept).
. "$(dirname "$0")/../lib/common.sh"
need ffmpeg ffprobe

SECS=${RG_BENCH_SECS:-100}
RUNS=${RG_BENCH_RUNS:-20}
COLD=${RG_BENCH_COLD:-3}
CACHE=${RG_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reelgate-bench}
mkdir -p "$CACHE" || skip_all "cannot create $CACHE"
SRC=$CACHE/warm-${SECS}s.mkv
if [ ! -s "$SRC" ]; then
  note "generating $SRC ($SECS s of 8 Mbit/s video, once)"
  make_video "$SRC.part.mkv" "$SECS" 1280x720 8M
  mv "$SRC.part.mkv" "$SRC"
fi
SIZE=$(file_size "$SRC")
cp "$SRC" "$T/title.mkv" # the seeder's name for it

seed_ours seeder 127.0.0.2 "$T/title.mkv"
H=$HASH M=$MAGNET
start_daemon bench
add_link "$M" "Bench Title"
wait_metadata "$H" 30 || die "no metadata"

# open_ms URL SPANS — one client, one connection: GET the first 2 MiB and
# each tail span; prints the wall time in ms (fails on a short answer).
cat >"$T/open.py" <<'PYEOF'
import sys, time, http.client, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1]); key = sys.argv[2]
spans = [(0, 2 * 1048576 - 1)] + [tuple(map(int, s.split(':'))) for s in sys.argv[3:]]
path = u.path + ('?' + u.query if u.query else '')
t0 = time.perf_counter()
c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
for s, e in spans:
    c.request('GET', path, headers={'Range': 'bytes=%d-%d' % (s, e), 'X-Api-Key': key})
    r = c.getresponse(); b = r.read()
    if r.status != 206 or len(b) != e - s + 1:
        sys.exit('range %d-%d: HTTP %d, %d bytes' % (s, e, r.status, len(b)))
print('%.2f' % ((time.perf_counter() - t0) * 1000))
PYEOF
U=$(stream_url "$H" 0)
tail_spans() { # "start:end" per tail region
  tfield "$H" '" ".join("%d:%d" % (o, o + n - 1) for o, n in ((j["files"][0].get("media") or {}).get("tail") or [[j["files"][0]["size"] - 2097152, 2097152]]))'
}
probe_ms() {
  local t0=$(now_ms)
  ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" >/dev/null 2>"$T/probe.err" ||
    { note "ffprobe failed: $(tail -2 "$T/probe.err")"; echo FAIL; return; }
  echo $(($(now_ms) - t0))
}
median() { python3 -c "import sys, statistics; v=[float(x) for x in sys.argv[1:] if x != 'FAIL']; print('%.1f' % statistics.median(v) if v else 'FAIL')" "$@"; }

# ---- cold: re-added each round (the delete drops its cache and warm data)
readd() {
  api DELETE "/api/torrents/$H" >/dev/null
  add_link "$M" "Bench Title"
  wait_metadata "$H" 30 || die "no metadata after re-adding"
}
CO='' CP=''
for ((k = 0; k < COLD; k++)); do
  readd
  # the tail spans are known once the media layer probed it; cold they are
  # what a player asks for all the same
  CO="$CO $(python3 "$T/open.py" "$(stream_url "$H" 0)" "$API_KEY" $(tail_spans) || echo FAIL)"
  readd
  CP="$CP $(probe_ms "$(stream_url "$H" 0)")"
done
note "cold open (ms):$CO"
note "cold ffprobe (ms):$CP"

# ---- warm: fill, then a restart that evicts the torrent cache
readd
api POST "/api/torrents/$H/warmup" >/dev/null
[ "$STATUS" = 202 ] || die "POST warmup: HTTP $STATUS $BODY"
warm_done() { [ "$(tfield "$H" files.0.warm.complete)" = true ]; }
wait_until 120 warm_done || die "the title did not become warm: $(tfield "$H" files.0.warm)"
DAEMON_ENV+=(cache_budget_mb=1)
restart_daemon
[ "$(tfield "$H" files.0.downloaded)" = 0 ] || note "cache still holds $(tfield "$H" files.0.downloaded) bytes"
U=$(stream_url "$H" 0)
SPANS=$(tail_spans)
WO='' WP=''
for ((k = 0; k < RUNS; k++)); do
  WO="$WO $(python3 "$T/open.py" "$U" "$API_KEY" $SPANS || echo FAIL)"
done
for ((k = 0; k < 5; k++)); do
  WP="$WP $(probe_ms "$U")"
done
ACTIVE=$(tfield "$H" active)
note "warm open (ms):$WO"
note "warm ffprobe (ms):$WP"

W_OPEN=$(median $WO) W_PROBE=$(median $WP)
C_OPEN=$(median $CO) C_PROBE=$(median $CP)
V=$(python3 -c "print('PASS' if '$W_OPEN' != 'FAIL' and float('$W_OPEN') < 10 else 'MISS')")
OUT=$T/table.txt
{
  echo "reelgate warm-start benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $((SIZE / 1048576)) MiB title, tail spans: $SPANS"
  printf '%-46s %10s %10s %-8s %s\n' metric warm cold target result
  printf '%-46s %10s %10s %-8s %s\n' "open: first 2 MiB + tail regions (ms, median)" "$W_OPEN" "$C_OPEN" "< 10" "$V"
  printf '%-46s %10s %10s %-8s %s\n' "ffprobe of the stream URL (ms, median)" "$W_PROBE" "$C_PROBE" "" ""
  printf '%-46s %10s %10s %-8s %s\n' "torrent in the session after the warm runs" "$ACTIVE" - "false" ""
  echo "runs: warm $RUNS (ffprobe 5), cold $COLD"
} | tee "$OUT"
mkdir -p "$RG_BUILDDIR/bench-out" 2>/dev/null && cp "$OUT" "$RG_BUILDDIR/bench-out/warm-$(date -u +%Y%m%dT%H%M%SZ).txt"
stop_daemon >/dev/null
[ "$V" = PASS ]
