#!/bin/sh
# tests/bench/priority.sh — priority mode, measured (not part of `make check`).
#
# A loopback swarm of rate-limited seeders (`reelgate seed --upload-limit`,
# each on its own address) holds two release-named files: the title that
# will be played (A, RG_PRIO_SEEDS_A seeders) and a background torrent (B,
# RG_PRIO_SEEDS_B seeders: a popular torrent has more peers). Both are read
# at once by greedy curl readers (B: a download someone started; A: the
# media server streaming the title) through a home link of
# RG_PRIO_LINK_KBPS (the daemon's download_limit_kbps). The played title's
# throughput (bytes the daemon verified per second) is measured for a window
# before and after a Plex media.play webhook for A, and the ratio printed
# (target >= 2x). Results go to $RG_BUILDDIR/bench-out/priority.txt.
#
# libtorrent exempts LAN and loopback peers from the global rate limit, so
# the swarm must look like the internet: the script re-runs itself in a
# private network namespace (unshare -n; needs CAP_SYS_ADMIN/NET_ADMIN, as
# root in a container) where the seeders get 198.18.0.x addresses (the
# RFC 2544 benchmark range) on its loopback. The host is not touched.
#
# Knobs: RG_PRIO_MB (file size, default 96), RG_PRIO_SEEDS_A (3),
# RG_PRIO_SEEDS_B (6), RG_PRIO_KBPS (each seeder's upload limit, 512),
# RG_PRIO_LINK_KBPS (1536), RG_PRIO_WINDOW (seconds per measurement, 10),
# RG_PRIO_BG_KBPS (priority_background_kbps, default 256).
if [ -z "${RG_PRIO_IN_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 &&
  unshare -n true 2>/dev/null; then
  RG_PRIO_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/common.sh"

MB=${RG_PRIO_MB:-96}
NA=${RG_PRIO_SEEDS_A:-3}
NB=${RG_PRIO_SEEDS_B:-6}
KBPS=${RG_PRIO_KBPS:-512}
LINK=${RG_PRIO_LINK_KBPS:-1536}
WIN=${RG_PRIO_WINDOW:-10}
BG=${RG_PRIO_BG_KBPS:-256}
PIECE=262144

NET=127.0.0
if [ -n "${RG_PRIO_IN_NETNS:-}" ]; then
  ip link set lo up || die "cannot bring up lo in the namespace"
  for ((i = 2; i < 2 + NA + NB; i++)); do
    ip addr add "198.18.0.$i/32" dev lo || die "cannot add 198.18.0.$i"
  done
  NET=198.18.0
  note "in a private network namespace; seeders on $NET.x"
else
  note "no private network namespace (unshare -n failed): seeders on 127.0.0.x are"
  note "exempt from the link limit, so the numbers show no contention"
fi

A_NAME=Big.Trouble.in.Little.China.1986.1080p.BluRay.x264-GRP.mkv
B_NAME=Some.Other.Film.2019.1080p.WEB-DL.x264-GRP.mkv
mkdir -p "$T/src"
make_random "$T/src/$A_NAME" "$MB" prio-a
make_random "$T/src/$B_NAME" "$MB" prio-b

# ---- the swarm
declare -a PEERS_A=() PEERS_B=()
for ((i = 0; i < NA; i++)); do
  seed_ours "seed-a-$i" "$NET.$((i + 2))" "$T/src/$A_NAME" --upload-limit "$KBPS" --piece-size $PIECE
  A_HASH=$HASH
  PEERS_A+=("$PEER")
done
for ((i = 0; i < NB; i++)); do
  seed_ours "seed-b-$i" "$NET.$((i + 2 + NA))" "$T/src/$B_NAME" --upload-limit "$KBPS" --piece-size $PIECE
  B_HASH=$HASH
  PEERS_B+=("$PEER")
done
magnet() { local h=$1 p m; shift; m="magnet:?xt=urn:btih:$h"; for p in "$@"; do m="$m&x.pe=$p"; done; echo "$m"; }

start_daemon prio "priority_background_kbps=$BG" playback_grace_s=5 "download_limit_kbps=$LINK"
add_link "$(magnet "$A_HASH" "${PEERS_A[@]}")"
add_link "$(magnet "$B_HASH" "${PEERS_B[@]}")"
wait_metadata "$A_HASH" 30 || die "no metadata for A"
wait_metadata "$B_HASH" 30 || die "no metadata for B"
api GET /api/library >/dev/null
A_ID=$(jget "[e['id'] for e in j['entries'] if e['info_hash'] == '$A_HASH'][0]" "$BODY") ||
  die "no library entry for $A_NAME: $BODY"
api PATCH "/api/library/$A_ID" -H 'Content-Type: application/json' --data-binary '{"imdb_id":"tt0090728"}' >/dev/null
[ "$STATUS" = 200 ] || die "PATCH entry: $STATUS $BODY"
api GET /api/webhooks >/dev/null
WURL=$(jget url "$BODY")

# ---- readers
UA=$(stream_url "$A_HASH" 0)
UB=$(stream_url "$B_HASH" 0)
spawn reader-b curl -sS --noproxy '*' -o /dev/null "$UB"
sleep 2
spawn reader-a curl -sS --noproxy '*' -o /dev/null "$UA"
sleep 3

# rate HASH SECONDS — bytes/s verified over SECONDS
rate() {
  local a0 a1 b0 b1 t0 t1
  a0=$(tfield "$A_HASH" downloaded) b0=$(tfield "$B_HASH" downloaded) t0=$(now_ms)
  sleep "$1"
  a1=$(tfield "$A_HASH" downloaded) b1=$(tfield "$B_HASH" downloaded) t1=$(now_ms)
  RA=$(((a1 - a0) * 1000 / (t1 - t0)))
  RB=$(((b1 - b0) * 1000 / (t1 - t0)))
}
rate "$WIN"
BEFORE_A=$RA BEFORE_B=$RB
note "before: A $((RA / 1024)) KiB/s, B $((RB / 1024)) KiB/s"

http POST "$WURL" -H 'Content-Type: application/json' --data-binary \
  '{"event":"media.play","Player":{"uuid":"bench","title":"bench"},"Metadata":{"type":"movie","title":"Big Trouble in Little China","year":1986,"Guid":[{"id":"imdb://tt0090728"}]}}'
[ "$STATUS" = 200 ] || die "media.play: HTTP $STATUS $BODY"
api GET /api/playback >/dev/null
[ "$(jget "' '.join(j['playing_torrents'])" "$BODY")" = "$A_HASH" ] || die "A is not playing: $BODY"
sleep 2
rate "$WIN"
AFTER_A=$RA AFTER_B=$RB
note "after:  A $((RA / 1024)) KiB/s, B $((RB / 1024)) KiB/s"
[ "$(tfield "$A_HASH" downloaded)" -lt $((MB * 1048576)) ] || note "A finished during the window: raise RG_PRIO_MB"

RATIO=$(python3 -c "print('%.2f' % ($AFTER_A / max($BEFORE_A, 1)))")
OUT=${RG_BUILDDIR:-.}/bench-out
mkdir -p "$OUT"
{
  echo "priority mode: link $LINK KiB/s; A $NA seeders, B $NB seeders at $KBPS KiB/s each; ${MB} MiB files; ${WIN} s windows; priority_background_kbps=$BG"
  printf '%-28s %10s %10s\n' "" "A KiB/s" "B KiB/s"
  printf '%-28s %10d %10d\n' "before media.play" $((BEFORE_A / 1024)) $((BEFORE_B / 1024))
  printf '%-28s %10d %10d\n' "after media.play" $((AFTER_A / 1024)) $((AFTER_B / 1024))
  echo "ratio (played title, after/before): ${RATIO}x (target >= 2x)"
} | tee "$OUT/priority.txt"
python3 -c "import sys; sys.exit(0 if $AFTER_A >= 2 * $BEFORE_A else 1)" && pass "ratio ${RATIO}x >= 2x" || fail "ratio ${RATIO}x < 2x"
stop_daemon
finish
