#!/bin/sh
# tests/bench/core.sh — the core benchmark (not part of `make check`).
#
# A loopback swarm of three of our seeders (127.0.0.2/.3/.4, announced
# through opentracker) holds a >= 1 GiB file of random data, generated once
# into a cache dir outside the tree. Against a fresh daemon it measures:
#   * cold time to first byte: the .torrent is added (metadata known, peers
#     still to be found) and the first 64 KiB requested at once;
#   * time to first byte after a seek to 70 %;
#   * sequential throughput of the whole file (curl -o /dev/null), cold;
#   * daemon CPU seconds per GB (utime+stime from /proc/PID/stat);
#   * peak memory (VmHWM) and anonymous RSS (RssAnon);
#   * cached throughput against nginx serving the same file on loopback:
#     200 random 4 MiB ranges over one keep-alive connection, and a full
#     sequential read, best of two rounds each.
# Prints a table with the targets and saves it under $RG_BUILDDIR/bench-out/.
# Exit 0 when every target is met, 1 otherwise, 77 when tools are missing.
#
# Knobs: RG_BENCH_MB (file size, default 1024), RG_BENCH_CACHE (where the
# file is kept), RG_BENCH_PIECE (piece size, default 1 MiB),
# RG_BENCH_RANGES (default 200), RG_BENCH_NGINX_WORKERS (default 1).
. "$(dirname "$0")/../lib/common.sh"
need opentracker nginx

MB=${RG_BENCH_MB:-1024}
PIECE=${RG_BENCH_PIECE:-1048576}
NRANGES=${RG_BENCH_RANGES:-200}
NGX_WORKERS=${RG_BENCH_NGINX_WORKERS:-1}
CACHE=${RG_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reelgate-bench}
mkdir -p "$CACHE" || skip_all "cannot create $CACHE"
SRC=$CACHE/bench-${MB}m.bin
SIZE=$((MB * 1048576))

avail=$(df --output=avail -B1 "$T" | tail -1 | tr -d ' ')
[ "${avail:-0}" -ge $((SIZE * 2)) ] || skip_all "needs $((SIZE * 2 / 1048576)) MiB free under ${TMPDIR:-/tmp}"

if [ "$(file_size "$SRC" 2>/dev/null)" != "$SIZE" ]; then
  note "generating $SRC ($MB MiB, once)"
  make_random_bytes "$SRC.part" "$SIZE" "reelgate-bench-$MB"
  mv "$SRC.part" "$SRC"
fi
cat "$SRC" >/dev/null # warm the page cache for the seeders and nginx

# ---- swarm
start_tracker
make_torrent "$T/bench.torrent" "$SRC" --tracker "$TRACKER" --piece-size "$PIECE"
BH=$THASH
tracker_allow "$BH"
for ip in 127.0.0.2 127.0.0.3 127.0.0.4; do
  seed_ours "seed-$ip" "$ip" "$SRC" --tracker "$TRACKER" --piece-size "$PIECE"
  [ "$HASH" = "$BH" ] || die "seeder on $ip has hash $HASH, the .torrent $BH"
done

start_daemon bench
CLK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# still_up PHASE — a daemon that died makes every later number meaningless.
still_up() {
  alive "$DPID" && return 0
  wait "$DPID" 2>/dev/null
  die "the daemon died during $1 (exit status $?; see dmesg for a segfault)"
}
secs() { python3 -c "print('%.3f' % ($1))"; }

# ---- cold time to first byte (metadata known, peers not yet)
# The stream URL is known in advance so the GET follows the add at once.
U="$URL/stream/$BH/0/$(basename "$SRC")?api_key=$API_KEY"
t0=$(now_ms)
api POST /api/torrents -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/bench.torrent" >/dev/null
read -r cold_ttfb cold_64k <<<"$(curl -sS --noproxy '*' --max-time 60 -r 0-65535 -o /dev/null \
  -w '%{time_starttransfer} %{time_total}' "$U")"
cold_from_add=$(($(now_ms) - t0))
[ "$STATUS" = 201 ] || die "adding the .torrent: HTTP $STATUS $BODY"
[ "$(jget files.0.stream_url "$BODY")" = "$U" ] || note "the daemon's stream_url differs: $(jget files.0.stream_url "$BODY")"
COLD_MS=$(secs "$cold_ttfb * 1000")

# ---- seek to 70 %
X=$((SIZE * 7 / 10 + 12345))
read -r seek_ttfb seek_1m <<<"$(curl -sS --noproxy '*' --max-time 60 -r "$X-$((X + 1048575))" \
  -o /dev/null -w '%{time_starttransfer} %{time_total}' "$U")"
SEEK_MS=$(secs "$seek_ttfb * 1000")
still_up "the cold and seek reads"

# ---- sequential, cold
c0=$(cpu_ticks "$DPID")
read -r seq_speed seq_time seq_size <<<"$(curl -sS --noproxy '*' --max-time 600 -o /dev/null \
  -w '%{speed_download} %{time_total} %{size_download}' "$U")"
still_up "the cold sequential read"
c1=$(cpu_ticks "$DPID")
[ "$seq_size" = "$SIZE" ] || note "sequential read got $seq_size of $SIZE bytes"
SEQ_MBS=$(secs "$seq_speed / 1e6")
CPU_COLD=$(secs "($c1 - $c0) / $CLK / ($SIZE / 1e9)")

done_dl() { [ "$(tfield "$BH" downloaded)" = "$SIZE" ]; }
wait_until 60 done_dl || note "the daemon holds $(tfield "$BH" downloaded) of $SIZE bytes"
[ -n "${RG_BENCH_VERIFY:-}" ] && { whole_eq "$SRC" "$U" && note "content verified" || note "CONTENT DIFFERS"; }

# ---- nginx on the same file
NGX=$T/nginx
mkdir -p "$NGX/logs" "$NGX/tmp"
NPORT=$(free_port 127.0.0.1)
{
  [ "$(id -u)" = 0 ] && echo "user $(id -un) $(id -gn);"
  echo "worker_processes $NGX_WORKERS;"
  echo "daemon off;"
  echo "pid $NGX/nginx.pid;"
  echo "error_log $NGX/logs/error.log;"
  echo "events { worker_connections 64; }"
  echo "http {"
  echo "  access_log off;"
  echo "  sendfile on; tcp_nopush on; keepalive_requests 100000;"
  echo "  default_type application/octet-stream;"
  # Debian's build has absolute temp paths under /var/lib/nginx: move them.
  nginx -V 2>&1 | tr ' ' '\n' | sed -n 's/^--http-\([a-z]*\)-temp-path=.*/\1/p' | while read -r kind; do
    case $kind in client-body) d=client_body ;; *) d=$kind ;; esac
    echo "  ${d}_temp_path $NGX/tmp/$kind;"
  done
  echo "  server { listen 127.0.0.1:$NPORT; root $(dirname "$SRC"); location / { } }"
  echo "}"
} >"$NGX/nginx.conf"
spawn nginx nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log"
wait_until 10 port_open 127.0.0.1 "$NPORT" || die "nginx did not start: $(cat "$NGX/logs/error.log" "$T/nginx.out" | tail -5)"
NURL=http://127.0.0.1:$NPORT/$(basename "$SRC")
code=$(curl -s --noproxy '*' -r 0-9 -o /dev/null -w '%{http_code}' "$NURL")
[ "$code" = 206 ] || die "nginx answers $code to a range request"

# One curl process, one keep-alive connection, NRANGES random 4 MiB ranges.
ranges_cfg() { # URL OUT
  local s e sep=''
  : >"$2"
  while read -r s e; do
    printf '%surl = "%s"\nrange = "%s-%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{size_download}\\n"\n' \
      "$sep" "$1" "$s" "$e" >>"$2"
    sep='next
'
  done < <(python3 -c "
import random
r = random.Random('bench-ranges'); n = 4 * 1048576
for _ in range($NRANGES):
    s = r.randrange($SIZE - n); print(s, s + n - 1)")
}
ranges_cfg "$U" "$T/ranges-rg.cfg"
ranges_cfg "$NURL" "$T/ranges-ngx.cfg"

ranges_mbs() { # CFG → MB/s (or FAIL)
  local t0 t1 bytes bad
  t0=$(date +%s%N)
  curl -s --noproxy '*' --max-time 600 -K "$1" >"$T/ranges.out" 2>&1
  t1=$(date +%s%N)
  bad=$(awk '$1 != 206' "$T/ranges.out" | wc -l)
  bytes=$(awk '{ s += $2 } END { print s + 0 }' "$T/ranges.out")
  [ "$bad" = 0 ] || note "$bad range requests did not answer 206: $(awk '$1 != 206' "$T/ranges.out" | head -2)" >&2
  secs "$bytes / (($t1 - $t0) / 1e9) / 1e6"
}
seq_mbs() { # URL → MB/s
  local sp
  sp=$(curl -s --noproxy '*' --max-time 600 -o /dev/null -w '%{speed_download}' "$1")
  secs "$sp / 1e6"
}
best() { python3 -c "import sys; print(max(float(x) for x in sys.argv[1:]))" "$@"; }

# Rounds alternate between the two servers so both see the same machine
# state; the best round of each counts (2 cores are shared with curl).
ROUNDS=${RG_BENCH_ROUNDS:-3}
RR='' RS='' NR='' NS='' cpu=0
for ((k = 0; k < ROUNDS; k++)); do
  c2=$(cpu_ticks "$DPID")
  RR="$RR $(ranges_mbs "$T/ranges-rg.cfg")"
  RS="$RS $(seq_mbs "$U")"
  still_up "the cached reads"
  c3=$(cpu_ticks "$DPID")
  cpu=$((cpu + c3 - c2))
  NR="$NR $(ranges_mbs "$T/ranges-ngx.cfg")"
  NS="$NS $(seq_mbs "$NURL")"
done
RG_RANGES=$(best $RR); RG_SEQ=$(best $RS)
NG_RANGES=$(best $NR); NG_SEQ=$(best $NS)
CPU_CACHED=$(secs "$cpu / $CLK / ($ROUNDS * ($NRANGES * 4 * 1048576 + $SIZE) / 1e9)")

HWM=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$DPID/status")
ANON=$(awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$DPID/status")

# ---- table
verdict() { python3 -c "import sys; print('PASS' if $1 else 'MISS')"; }
V_COLD=$(verdict "$COLD_MS < 300")
V_SEEK=$(verdict "$SEEK_MS < 500")
V_SEQ=$(verdict "$SEQ_MBS >= 100")
V_RNG=$(verdict "$RG_RANGES >= 0.8 * $NG_RANGES")
V_CSEQ=$(verdict "$RG_SEQ >= 0.8 * $NG_SEQ")
ratio() { secs "$1 / $2" 2>/dev/null || echo -; }
OUT=$T/table.txt
{
  echo "reelgate core benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $MB MiB file, piece $PIECE, 3 loopback seeders"
  printf '%-44s %12s %12s %8s %-16s %s\n' metric reelgate nginx ratio target result
  printf '%-44s %12s %12s %8s %-16s %s\n' "cold TTFB, .torrent just added (ms)" "$COLD_MS" - - "< 300" "$V_COLD"
  printf '%-44s %12s %12s %8s %-16s %s\n' "  (add → first 64 KiB complete, ms)" "$cold_from_add" - - "" ""
  printf '%-44s %12s %12s %8s %-16s %s\n' "TTFB after a seek to 70 % (ms)" "$SEEK_MS" - - "< 500" "$V_SEEK"
  printf '%-44s %12s %12s %8s %-16s %s\n' "sequential, cold, whole file (MB/s)" "$SEQ_MBS" - - ">= 100" "$V_SEQ"
  printf '%-44s %12s %12s %8s %-16s %s\n' "CPU s per GB, cold sequential" "$CPU_COLD" - - "" ""
  printf '%-44s %12s %12s %8s %-16s %s\n' "CPU s per GB, cached serving" "$CPU_CACHED" - - "" ""
  printf '%-44s %12s %12s %8s %-16s %s\n' "peak RSS, VmHWM (MiB)" "$HWM" - - "" ""
  printf '%-44s %12s %12s %8s %-16s %s\n' "RssAnon at the end (MiB)" "$ANON" - - "" ""
  printf '%-44s %12s %12s %8s %-16s %s\n' "cached: $NRANGES random 4 MiB ranges (MB/s)" "$RG_RANGES" "$NG_RANGES" "$(ratio "$RG_RANGES" "$NG_RANGES")" ">= 0.8x nginx" "$V_RNG"
  printf '%-44s %12s %12s %8s %-16s %s\n' "cached: sequential whole file (MB/s)" "$RG_SEQ" "$NG_SEQ" "$(ratio "$RG_SEQ" "$NG_SEQ")" ">= 0.8x nginx" "$V_CSEQ"
  echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //'), $NGX_WORKERS worker(s), sendfile on; best of $ROUNDS alternating rounds:"
  echo "  ranges reelgate:$RR  nginx:$NR"
  echo "  seq    reelgate:$RS  nginx:$NS"
} >"$OUT"
cat "$OUT"
mkdir -p "$RG_BUILDDIR/bench-out" 2>/dev/null &&
  cp "$OUT" "$RG_BUILDDIR/bench-out/core-$(date -u +%Y%m%dT%H%M%S).txt" 2>/dev/null

stop_daemon
[ "$FAILS" = 0 ] || finish # the daemon did not stop cleanly
missed=0
for v in "$V_COLD" "$V_SEEK" "$V_SEQ" "$V_RNG" "$V_CSEQ"; do
  [ "$v" = PASS ] || missed=$((missed + 1))
done
if [ $missed = 0 ]; then echo "# every target met"; exit 0; fi
echo "# $missed target(s) missed"
exit 1
