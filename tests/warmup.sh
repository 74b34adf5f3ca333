#!/bin/sh
# warmup.sh — the warmup store end to end: one title is warmed on demand
# (POST /api/torrents/{hash}/warmup), another as a side effect of ordinary
# reads of its head and tail; then every seeder is killed and the daemon
# restarted with a cache budget that evicts all cached torrent data at
# start. ffprobe of both stream URLs still succeeds, from the warm bytes
# alone, without the torrents even joining the session; the bytes are the
# source's; /api/warmup shows the usage; removing a torrent forgets its
# warm files.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg ffprobe

HEAD_MB=4
TAIL_MB=1
make_video "$T/a.mkv" 30 320x240 2M
make_video "$T/b.mp4" 30 320x240 2M # moov at the end (no faststart)
SA=$(file_size "$T/a.mkv")
SB=$(file_size "$T/b.mp4")
note "a.mkv $SA bytes, b.mp4 $SB bytes"
[ "$SA" -gt $(((HEAD_MB + TAIL_MB + 1) * 1048576)) ] || die "a.mkv is too small to have a cold middle"

seed_ours seed-a 127.0.0.2 "$T/a.mkv"
MA=$MAGNET HA=$HASH
seed_ours seed-b 127.0.0.3 "$T/b.mp4"
MB=$MAGNET HB=$HASH

# readahead_mb=1: to the 4 MiB head what the default 32 MiB read-ahead is to
# the default 64 MiB head (the reader wakes a torrent only when a read gets
# within one read-ahead window of the end of a warm run).
# With FUSE at hand, the library mount is checked too (a warm title probes
# through the mount with no seeder).
FUSE_MNT=
if [ -e /dev/fuse ] && [ "$(id -u)" = 0 ]; then
  FUSE_MNT=$T/mnt
  mkdir -p "$FUSE_MNT"
fi
start_daemon warm warm_head_mb=$HEAD_MB warm_tail_mb=$TAIL_MB read_timeout_s=4 readahead_mb=1 ${FUSE_MNT:+"mount=$FUSE_MNT"}
add_link "$MA" "Warm A"
check_status "add A → 201" 201
add_link "$MB" "Warm B"
check_status "add B → 201" 201
check "A metadata" wait_metadata "$HA" 30
api POST /api/library -H 'Content-Type: application/json' \
  -d "{\"info_hash\": \"$HA\", \"file_index\": 0, \"kind\": \"movie\", \"title\": \"Warm Test\", \"year\": 2020}" >/dev/null
check_status "a library entry for A → 201" 201
check "B metadata" wait_metadata "$HB" 30

api GET /api/warmup >/dev/null
check_status "GET /api/warmup → 200" 200
check_eq "warmup store enabled" true "$(jget enabled "$BODY")"
check_eq "quota from warm_quota_mb" $((32768 * 1048576)) "$(jget quota "$BODY")"
check_eq "file objects carry warm" false "$(tfield "$HA" files.0.warm.complete)"

# ---- A: on demand
api POST "/api/torrents/$HA/warmup" >/dev/null
check_status "POST warmup (no body) → 202" 202
# (the media layer's probe may have read, and so warmed, part of it first)
check "it answers with the bytes queued" test "$(jget queued "$BODY")" -ge 0
api POST "/api/torrents/$HA/warmup" -H 'Content-Type: application/json' --data-binary '{"file_index": 7}' >/dev/null
check_status "POST warmup with a bad file_index → 400" 400
api POST "/api/torrents/0123456789012345678901234567890123456789/warmup" >/dev/null
check_status "POST warmup of an unknown torrent → 404" 404
a_complete() { [ "$(tfield "$HA" files.0.warm.complete)" = true ]; }
check "A's head and tail become warm" wait_until 60 a_complete
check_eq "A warm head bytes" $((HEAD_MB * 1048576)) "$(tfield "$HA" files.0.warm.head)"

# ---- B: through ordinary reads of its head and tail (the reader offers
# what it served to the store)
UB=$(stream_url "$HB" 0)
TB=$(((SB - TAIL_MB * 1048576) / 65536 * 65536))
check "B head read" range_eq "$T/b.mp4" "$UB" 0 $((HEAD_MB * 1048576 - 1))
check "B tail read" range_eq "$T/b.mp4" "$UB" "$TB" $((SB - 1))
b_complete() { [ "$(tfield "$HB" files.0.warm.complete)" = true ]; }
check "B's head and tail become warm from the reads" wait_until 30 b_complete

api GET /api/warmup >/dev/null
check_eq "two warm files" 2 "$(jget files "$BODY")"
USED=$(jget used "$BODY")
check "usage counts their bytes" test "$USED" -ge $((2 * HEAD_MB * 1048576))

# ---- no seeders, no cached torrent data: only the warm store is left
stop_proc seed-a
stop_proc seed-b
DAEMON_ENV+=(cache_budget_mb=1)
restart_daemon
check "the restart evicted the cached torrent data" daemon_log_has "evicting"
check_eq "A has no verified bytes in the cache" 0 "$(tfield "$HA" files.0.downloaded)"
check_eq "A still warm after the restart" true "$(tfield "$HA" files.0.warm.complete)"
check_eq "no torrent active after the restart" 0 "$(status_field active)"

UA=$(stream_url "$HA" 0)
UB=$(stream_url "$HB" 0)
probe() {
  local t0=$(now_ms) rc
  timeout 30 ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" >"$T/probe.out" 2>"$T/probe.err"
  rc=$?
  PROBE_MS=$(($(now_ms) - t0))
  [ $rc = 0 ] || { note "ffprobe: $(tail -3 "$T/probe.err")"; return 1; }
  DUR=$(cut -d. -f1 <"$T/probe.out")
  [ "$DUR" -ge 29 ] && [ "$DUR" -le 31 ] || { note "duration $(cat "$T/probe.out")"; return 1; }
}
check "ffprobe of warm A (mkv) succeeds with no seeders" probe "$UA"
note "ffprobe A took $PROBE_MS ms"
check_le "ffprobe A did not wait on the swarm" "$PROBE_MS" 3000
check "ffprobe of warm B (mp4, moov at the end) succeeds" probe "$UB"
if [ -n "$FUSE_MNT" ]; then
  FA="$FUSE_MNT/movies/Warm Test (2020)/Warm Test (2020).mkv"
  if wait_until 15 test -f "$FA"; then
    check "ffprobe of warm A through the FUSE mount succeeds with no seeders" probe "$FA"
    note "ffprobe A through the mount took $PROBE_MS ms"
  else
    note "the FUSE mount is not available here: $(grep -h 'no FUSE mount' "$DATA/reelgate.log" | tail -1)"
  fi
else
  note "no /dev/fuse or not root: the FUSE half of the warm check is skipped"
fi
note "ffprobe B took $PROBE_MS ms"
check_eq "A was never activated" false "$(tfield "$HA" active)"
check_eq "B was never activated" false "$(tfield "$HB" active)"
check_eq "status: 0 active" 0 "$(status_field active)"
check "A's first 2 MiB are the source's" range_eq "$T/a.mkv" "$UA" 0 2097151
# the tail regions: the media layer's spans when it located them, else the
# fixed tail
tail_ranges() {
  tfield "$1" '"\n".join("%d %d" % (o, o + n - 1) for o, n in ((j["files"][0].get("media") or {}).get("tail") or [[j["files"][0]["size"] - '$TAIL_MB' * 1048576, '$TAIL_MB' * 1048576]]))'
}
tails_eq() {
  local f=$1 u=$2 h=$3 s e n=0
  while read -r s e; do
    [ -n "$s" ] || continue
    range_eq "$f" "$u" "$s" "$e" || return 1
    n=$((n + 1))
  done < <(tail_ranges "$h")
  [ $n -gt 0 ]
}
check "A's tail regions are the source's" tails_eq "$T/a.mkv" "$UA" "$HA"
check "B's tail regions are the source's" tails_eq "$T/b.mp4" "$UB" "$HB"
check_eq "still no torrent active" 0 "$(status_field active)"
api GET /api/warmup >/dev/null
check_eq "usage after the restart: 2 files" 2 "$(jget files "$BODY")"
check_eq "usage after the restart: same bytes" "$USED" "$(jget used "$BODY")"

# the cold middle really is gone: no seeder, not warm
MID=$((HEAD_MB * 1048576 + 65536))
if RANGE_TIMEOUT=15 range_eq "$T/a.mkv" "$UA" $MID $((MID + 65535)) >/dev/null; then
  fail "a cold range cannot be served without seeders"
else
  pass "a cold range cannot be served without seeders"
fi

# ---- removing a torrent forgets its warm files
api DELETE "/api/torrents/$HB" >/dev/null
check_status "delete B → 200" 200
api GET /api/warmup >/dev/null
check_eq "B forgotten: 1 warm file left" 1 "$(jget files "$BODY")"
check "B's mirror directory is gone" test ! -e "$DATA/warm/$HB"

stop_daemon
finish
