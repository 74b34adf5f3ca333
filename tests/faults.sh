#!/usr/bin/env bash
# faults.sh — faults survived (issue 9, item 3):
#  a. a seeder dies mid-stream: another serves the rest, the player's whole
#     GET succeeds and equals the source;
#  b. SIGKILL of the daemon while it streams and warmup copies run: after a
#     restart the database, the library and its inode numbers are intact and
#     every warm byte served (seeders gone) equals the source;
#  c. the cache dir fills (a 24 MiB tmpfs, budget larger): reads that need
#     space fail with an error naming the disk error, the torrent's error is
#     in the API, warm titles still play, no crash (skipped when mounting a
#     tmpfs is not permitted);
#  d. a seeder sends corrupt data: hash failures are logged, that peer is
#     banned (the daemon holds no connection to it, and a new torrent on the
#     same address never reaches it), and the bytes served are correct.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg ffprobe
export LC_ALL=C
CACHEFS=$T/cachefs

faults_exit() {
  local rc=$?
  if [ -n "${DPID:-}" ] && alive "$DPID"; then
    kill -TERM "$DPID" 2>/dev/null
    wait_gone "$DPID" 10 || kill -KILL "$DPID" 2>/dev/null
  fi
  mountpoint -q "$CACHEFS" 2>/dev/null && umount -l "$CACHEFS" 2>/dev/null
  (exit $rc)
  cleanup
}
trap faults_exit EXIT

# range_if_ok FILE URL START END — 0 unless the daemon answered 206 with
# bytes that differ from the source (a timeout is not a wrong byte).
range_if_ok() {
  local code len=$(($4 - $3 + 1))
  code=$(curl -sS -g --noproxy '*' --max-time 15 -H "X-Api-Key: $API_KEY" \
    -r "$3-$4" -o "$T/rio.bin" -w '%{http_code}' "$2" 2>/dev/null)
  [ "$code" = 206 ] || { RIO_MISS=$((RIO_MISS + 1)); return 0; }
  dd if="$1" iflag=skip_bytes,count_bytes skip="$3" count="$len" status=none |
    cmp -s - "$T/rio.bin" || { echo "# range $3-$4 served wrong bytes"; return 1; }
}

# kill_hard NAME|PID — SIGKILL and reap.
kill_hard() {
  local pid=${PIDOF[$1]:-$1}
  kill -KILL "$pid" 2>/dev/null
  wait_gone "$pid" 5
  untrack "$pid"
}

# =========================================== a. a seeder dies mid-stream ==
mkdir -p "$T/a"
FA=$T/a/dies.bin
make_random "$FA" 12
seed_ours seedA 127.0.0.2 "$FA" --upload-limit 1024
PA=$PEER H=$HASH
seed_ours seedB 127.0.0.3 "$FA" --upload-limit 1024
PB=$PEER
[ "$HASH" = "$H" ] || die "the two seeders disagree on the info hash"
start_daemon fa read_timeout_s=20 warm_quota_mb=0
add_link "magnet:?xt=urn:btih:$H&dn=dies.bin&x.pe=$PA&x.pe=$PB"
wait_metadata "$H" 30 || die "a: no metadata"
SURL=$(stream_url "$H" 0)
spawn curl-a curl -sS -g --noproxy '*' --max-time 60 -f -o "$T/a/got.bin" "$SURL"
CA=$LAST_PID
got_some() { [ "$(stat -c %s "$T/a/got.bin" 2>/dev/null || echo 0)" -ge $((3 << 20)) ]; }
wait_until 30 got_some || note "a: under 3 MiB after 30 s"
at_kill=$(stat -c %s "$T/a/got.bin" 2>/dev/null || echo 0)
kill_hard seedA
note "a: seeder A killed after $at_kill of $(file_size "$FA") bytes"
check "a: the kill landed mid-transfer" test "$at_kill" -lt "$(file_size "$FA")"
wait_until 50 eval '! alive $CA' || true
if alive "$CA"; then kill -KILL "$CA"; fi
wait "$CA"; rc=$?
untrack "$CA"
check_eq "a: the player's whole GET succeeded (curl exit status)" 0 "$rc"
check "a: and equals the source" cmp -s "$FA" "$T/a/got.bin"
stop_daemon
stop_proc seedB

# ====================================== d. a seeder sends corrupt data ==
mkdir -p "$T/d/src" "$T/d/bad"
FD=$T/d/src/corrupt.bin
make_random "$FD" 8
make_torrent "$T/d.torrent" "$FD" --piece-size 262144
HD=$THASH
cp "$FD" "$T/d/bad/corrupt.bin"
seed_ours bad 127.0.0.6 "$T/d/bad/corrupt.bin" --torrent "$T/d.torrent"
PBAD=$PEER
# checked at start: now corrupt pieces 4..11 in place, served as if good
for p in 4 5 6 7 8 9 10 11; do py chunk "$T/d/bad/corrupt.bin" $((p * 262144)) 262144 "bad$p"; done
# the good seeder is slow, so the corrupt one serves most blocks
seed_ours good 127.0.0.7 "$FD" --torrent "$T/d.torrent" --upload-limit 512
PGOOD=$PEER
start_daemon fd read_timeout_s=20 warm_quota_mb=0
add_link "magnet:?xt=urn:btih:$HD&dn=corrupt.bin&x.pe=$PBAD&x.pe=$PGOOD"
wait_metadata "$HD" 30 || die "d: no metadata"
DURL=$(stream_url "$HD" 0)
# the first 4 MiB (pieces 0..15, the corrupt ones among them)
check "d: the first 4 MiB served equal the source" range_eq "$FD" "$DURL" 0 $((4 << 20))
check "d: hash failures are logged" wait_until 5 daemon_log_has "failed its hash check"
note "d: $(grep -c 'failed its hash check' "$DATA/reelgate.log") hash failures logged"
check "d: the corrupt peer's ban is logged" wait_until 10 daemon_log_has "${PBAD%:*}.*banned"
check "d: and counted in /metrics" eval \
  "curl -sS --noproxy '*' -H 'X-Api-Key: $API_KEY' '$URL/metrics' | grep -qx 'reelgate_peers_banned_total [1-9][0-9]*'"
# the daemon's own sockets to ADDR (the seeders also talk to each other)
daemon_conns() {
  ss -Htnp state established "( dst $1 )" 2>/dev/null | grep -c "pid=$DPID,"
}
if command -v ss >/dev/null 2>&1; then
  check "d: the daemon holds no connection to the corrupt peer" \
    wait_until 10 eval "[ \$(daemon_conns ${PBAD%:*}) = 0 ]"
  note "d: the daemon's connections to the good peer: $(daemon_conns "${PGOOD%:*}")"
else
  note "d: ss is not installed: the daemon's sockets are not checked"
fi
check "d: the whole file served equals the source" whole_eq "$FD" "$DURL"
# the ban outlives the torrent: removed and added again, the same address
# (offered in the magnet) is never connected
api DELETE "/api/torrents/$HD" >/dev/null
check_eq "d: the torrent is removed" 200 "$STATUS"
add_link "magnet:?xt=urn:btih:$HD&dn=corrupt.bin&x.pe=$PBAD&x.pe=$PGOOD"
wait_metadata "$HD" 30 || die "d: no metadata after the re-add"
check "d: re-added, the first MiB served equals the source" range_eq "$FD" "$DURL" 0 $(((1 << 20) - 1))
if command -v ss >/dev/null 2>&1; then
  check_eq "d: and the banned address was not connected again" 0 "$(daemon_conns "${PBAD%:*}")"
fi
stop_daemon
stop_proc bad
stop_proc good

# ================================ b. SIGKILL mid-write, warmup running ==
mkdir -p "$T/b"
VA=$T/b/Kill.Test.Alpha.2019.1080p.WEB-DL.x264-RG.mkv
VB=$T/b/Kill.Test.Beta.2020.1080p.WEB-DL.x264-RG.mkv
make_video "$VA" 8 640x360 3M
make_video "$VB" 8 640x360 3M
seed_ours seedVA 127.0.0.4 "$VA"
MA=$MAGNET HA=$HASH
seed_ours seedVB 127.0.0.5 "$VB" --upload-limit 256
MB=$MAGNET HB=$HASH
start_daemon fb warm_head_mb=1 warm_tail_mb=1 read_timeout_s=4
add_link "$MA"
wait_metadata "$HA" 30 || die "b: no metadata for A"
api POST "/api/torrents/$HA/warmup" >/dev/null
warm_done() { [ "$(tfield "$1" files.0.warm.complete)" = true ]; }
check "b: title A is warm" wait_until 30 warm_done "$HA"
add_link "$MB"
wait_metadata "$HB" 30 || die "b: no metadata for B"
two_entries() { api GET /api/library >/dev/null; [ "$(jget 'len(j["entries"])' "$BODY")" -ge 2 ]; }
wait_until 10 two_entries || die "b: no library entries for both titles: $BODY"
api POST "/api/torrents/$HB/warmup" >/dev/null
UB=$(stream_url "$HB" 0)
spawn curl-b curl -sS -g --noproxy '*' --max-time 60 -o "$T/b/b.out" "$UB"
sleep 1.5
lib_sig() { api GET /api/library >/dev/null
  jget '"\n".join("%s %s %s %s" % (e["id"], e["inode"], e["info_hash"], e["path"]) for e in sorted(j["entries"], key=lambda e: e["id"]))' "$BODY"; }
LIB_BEFORE=$(lib_sig)
TOR_BEFORE=$(api GET /api/torrents | jget '" ".join(sorted(t["info_hash"] for t in j["torrents"]))')
note "b: B warm before the kill: $(tfield "$HB" files.0.warm)"
kill_hard daemon
DPID=''
note "b: daemon SIGKILLed while B streams at $(stat -c %s "$T/b/b.out" 2>/dev/null || echo 0) bytes and warms"
stop_proc curl-b
launch_daemon
check "b: the daemon restarts after SIGKILL" alive "$DPID"
check_eq "b: library entries, paths and inode numbers are unchanged" "$LIB_BEFORE" "$(lib_sig)"
check_eq "b: the torrents are all there" "$TOR_BEFORE" \
  "$(api GET /api/torrents | jget '" ".join(sorted(t["info_hash"] for t in j["torrents"]))')"
if command -v sqlite3 >/dev/null 2>&1; then
  bad_db=0
  for db in "$DATA"/*.db "$DATA"/*/*.db; do
    [ -f "$db" ] || continue
    r=$(sqlite3 "file:$db?mode=ro" 'PRAGMA integrity_check' 2>&1 | head -1)
    [ "$r" = ok ] || { bad_db=1; note "b: $db: $r"; }
  done
  check_eq "b: every database passes integrity_check" 0 $bad_db
fi
# Seeders gone: whatever is served must come from the warm store, and be right.
stop_proc seedVA
stop_proc seedVB
UA=$(stream_url "$HA" 0)
check "b: ffprobe of warm title A works with no seeder" \
  timeout 40 ffprobe -v error -show_entries format=duration -of csv=p=0 "$UA"
WHA=$(tfield "$HA" files.0.warm.head)
note "b: A warm head $WHA bytes, B warm after restart: $(tfield "$HB" files.0.warm)"
bad=0 RIO_MISS=0
while read -r s e; do range_eq "$VA" "$UA" "$s" "$e" || bad=$((bad + 1)); done < <(py ranges "${WHA:-1}" 10 65536 warmA)
check_eq "b: ranges in A's warm head equal the source" 0 $bad
WHB=$(tfield "$HB" files.0.warm.head)
bad=0 RIO_MISS=0
if [ "${WHB:-0}" -gt 0 ]; then
  while read -r s e; do range_if_ok "$VB" "$UB" "$s" "$e" || bad=$((bad + 1)); done < <(py ranges "$WHB" 6 65536 warmB)
fi
check_eq "b: no wrong byte served from B's (interrupted) warm copy" 0 $bad
note "b: B ranges not served (no seeder): $RIO_MISS"
stop_daemon

# ======================================================= c. cache full ==
mkdir -p "$CACHEFS" "$T/c"
if ! mount -t tmpfs -o size=24m tmpfs "$CACHEFS" 2>"$T/mount.err"; then
  note "SKIP c: cannot mount a tmpfs: $(cat "$T/mount.err")"
else
  FC=$T/c/big.bin
  make_random "$FC" 40
  VW=$T/c/Warm.Title.2018.1080p.WEB-DL.x264-RG.mkv
  make_video "$VW" 4 320x240 1M
  seed_ours seedC 127.0.0.8 "$FC"
  MC=$MAGNET HC=$HASH
  seed_ours seedW 127.0.0.9 "$VW"
  MW=$MAGNET HW=$HASH
  start_daemon fc "cache_dir=$CACHEFS" cache_budget_mb=200 read_timeout_s=8 warm_head_mb=4 warm_tail_mb=1
  add_link "$MW"
  wait_metadata "$HW" 30 || die "c: no metadata for the warm title"
  api POST "/api/torrents/$HW/warmup" >/dev/null
  check "c: the small title is warm" wait_until 30 warm_done "$HW"
  add_link "$MC"
  wait_metadata "$HC" 30 || die "c: no metadata for the big file"
  UC=$(stream_url "$HC" 0)
  # the whole file is larger than the tmpfs: the stream stops
  rcw=0
  curl -sS -g --noproxy '*' --max-time 40 -f -o "$T/c/big.out" "$UC" 2>"$T/c/curl.err" || rcw=$?
  note "c: whole read of 40 MiB: curl exit $rcw after $(stat -c %s "$T/c/big.out" 2>/dev/null) bytes: $(head -c 200 "$T/c/curl.err")"
  check "c: the whole read of a file larger than the cache dir fails" test "$rcw" != 0
  http GET "$UC" -r $((39 << 20))-$(((40 << 20) - 1))
  BODY=$(printf '%s' "$BODY" | head -c 300 | tr -c '[:print:]' '.')
  note "c: a read past the tmpfs size: HTTP $STATUS $BODY"
  check "c: a read that needs space fails with 5xx" test "${STATUS#5}" != "$STATUS"
  # a torrent paused by a disk error fails its reads at once, naming it
  check "c: the HTTP error names the disk error" eval "printf '%s' \"\$BODY\" | grep -qi 'space\\|disk\\|storage'"
  terr=$(tfield "$HC" error)
  note "c: torrent error in the API: $terr"
  check "c: the torrent's error is visible in the API" eval "printf '%s' \"\$terr\" | grep -qi 'space\|disk'"
  check "c: the daemon logged the disk error" daemon_log_has "o space left on device"
  check "c: the daemon is alive" alive "$DPID"
  stop_proc seedW
  UW=$(stream_url "$HW" 0)
  check "c: the warm title still plays (ffprobe)" \
    timeout 30 ffprobe -v error -show_entries format=duration -of csv=p=0 "$UW"
  check "c: the warm title's bytes equal the source" whole_eq "$VW" "$UW"
  api GET /api/status >/dev/null
  check_status "c: the API answers" 200
  stop_daemon
  umount "$CACHEFS" 2>/dev/null || umount -l "$CACHEFS"
fi

finish
