#!/bin/sh
# swarm-faults.sh — the swarm goes away and comes back.
#  * A torrent seeded through opentracker is read a little; the seeder dies;
#    the next uncached read fails (504 or a cut connection) within
#    read_timeout_s + 3 s while the API keeps answering, a retry fails
#    within the 2 s stall timeout; the seeder returns
#    on the same port and reads recover, byte-exact, within a bounded time.
#  * A magnet nobody seeds: the metadata fetch gives up after
#    metadata_timeout_s, the torrent says so, and nothing hangs.
#  * Shutdown while reads wait on a swarm that never answers (a player's
#    GET, an HLS request, a probe and a warmup copy, read_timeout_s=120):
#    SIGTERM ends the daemon in seconds, not after the read timeout.
. "$(dirname "$0")/lib/common.sh"
need opentracker

READ_TIMEOUT=5
META_TIMEOUT=6
PIECE=262144
make_random "$T/f.bin" 96
F=$T/f.bin
SIZE=$(file_size "$F")

start_tracker
make_torrent "$T/f.torrent" "$F" --tracker "$TRACKER" --piece-size $PIECE
FH=$THASH
tracker_allow "$FH"
seed_ours seeder 127.0.0.2 "$F" --tracker "$TRACKER" --piece-size $PIECE
check_eq "seeder hash equals the .torrent's" "$FH" "$HASH"
PORT1=$SEED_PORT

start_daemon faults read_timeout_s=$READ_TIMEOUT metadata_timeout_s=$META_TIMEOUT readahead_mb=1

api POST /api/torrents -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/f.torrent" >/dev/null
check_status "add .torrent → 201" 201
U=$(stream_url "$FH" 0)
check "read the first 256 KiB" range_eq "$F" "$U" 0 262143
# Let the daemon settle, then note how much it holds.
sleep 1
stop_proc seeder
got=$(tfield "$FH" downloaded)
note "downloaded before the seeder died: $got of $SIZE"
END0=$((SIZE - 3 * 1048576))
check "the range we will read next is not downloaded yet (downloaded $got < $END0)" test "${got:-0}" -lt "$END0"

# ---- uncached read with no seeder
curl -sS -g --noproxy '*' --max-time 30 -r "$END0-$((END0 + 65535))" -o "$T/dead.bin" \
  -w '%{http_code}' "$U" >"$T/dead.code" 2>"$T/dead.err" &
pr=$!; track $pr dead-read
t0=$(now_ms)
sleep 1
# The event loop must not be stuck behind the waiting read.
http GET "$URL/api/status" -H "X-Api-Key: $API_KEY" --max-time 2
check_status "/api/status answers while a read waits for data" 200
http GET "$URL/api/torrents/$FH" -H "X-Api-Key: $API_KEY" --max-time 2
check_status "/api/torrents/{hash} answers while a read waits" 200
wait $pr; rc=$?; untrack $pr
el=$(($(now_ms) - t0))
code=$(cat "$T/dead.code")
note "dead read: curl exit $rc, HTTP $code, after ~$el ms: $(head -c 200 "$T/dead.err")"
check "the uncached read fails (504 or cut) — HTTP $code, curl $rc" \
  sh -c '[ "$1" = 504 ] || [ "$2" != 0 ]' _ "$code" "$rc"
check "it fails with 504 (no byte was sent)" test "$code" = 504
check_le "it fails within read_timeout_s + 3 s (ms)" "$el" $(((READ_TIMEOUT + 3) * 1000))
http GET "$URL/api/status" -H "X-Api-Key: $API_KEY" --max-time 2
check_status "the daemon still answers after the failed read" 200
check "cached data is still served without a seeder" range_eq "$F" "$U" 0 65535
# A retry on a torrent that got nothing since a read timed out waits 2 s,
# not read_timeout_s again (the kernel, smbd and players all retry).
t0=$(now_ms)
code=$(curl -sS -g --noproxy '*' --max-time 30 -r "$((END0 + 1048576))-$((END0 + 1048576 + 65535))" \
  -o /dev/null -w '%{http_code}' "$U" 2>/dev/null)
el=$(($(now_ms) - t0))
note "retry on the stalled torrent: HTTP $code after $el ms"
check_eq "a retry while still stalled fails with 504" 504 "$code"
check_le "… within 2 s + 1.5 s, not read_timeout_s again (ms)" "$el" 3500

# ---- the seeder comes back (same port, announces to the tracker)
t0=$(now_ms)
seed_ours seeder2 127.0.0.2 "$F" --tracker "$TRACKER" --piece-size $PIECE --port "$PORT1"
recovered=''
for ((i = 0; i < 30; i++)); do
  if range_eq "$F" "$U" "$END0" $((END0 + 65535)) >/dev/null 2>&1; then recovered=1; break; fi
  [ $(($(now_ms) - t0)) -gt 60000 ] && break
  sleep 1
done
note "recovery took $(($(now_ms) - t0)) ms from the seeder's start"
check "reads recover within 60 s of the seeder's return" test -n "$recovered"
check "the recovered range is byte-exact" range_eq "$F" "$U" "$END0" $((END0 + 65535))
check "20 random ranges after recovery" random_ranges_eq "$F" "$U" 20 1048576
check "tail after recovery" range_eq "$F" "$U" $((SIZE - 1000)) $((SIZE - 1))

# ---- a magnet whose metadata never comes
NOHASH=$(python3 -c 'import random; print(random.Random("nobody").randbytes(20).hex())')
DEADPORT=$(free_port 127.0.0.9)
add_link "magnet:?xt=urn:btih:$NOHASH&dn=ghost&x.pe=127.0.0.9:$DEADPORT"
check_status "add an unseeded magnet → 201" 201
check_eq "it has no metadata" false "$(jget has_metadata "$BODY")"
t0=$(now_ms)
http GET "$URL/stream/$NOHASH/0/ghost.mkv" -H "X-Api-Key: $API_KEY" --max-time $((META_TIMEOUT + 15)) -r 0-99
el=$(($(now_ms) - t0))
note "stream of a metadata-less torrent: HTTP $STATUS after $el ms"
check "a stream request for it does not hang (HTTP $STATUS)" test "$STATUS" != 000
check "and does not claim success" sh -c 'case "$1" in 2*) exit 1;; esac; exit 0' _ "$STATUS"
meta_error() {
  torrent "$NOHASH"
  printf '%s' "$BODY" | python3 -c '
import json, sys, re
t = json.load(sys.stdin)
err = t.get("error") or ""
st = str(t.get("state", ""))
sys.exit(0 if (err or re.search("error|timeout|timed|fail", st, re.I)) else 1)'
}
check "the torrent reports a metadata error/timeout within metadata_timeout_s + 10 s" \
  wait_until $((META_TIMEOUT + 10)) meta_error
note "ghost torrent: $(printf '%s' "$BODY" | head -c 400)"
http GET "$URL/api/status" -H "X-Api-Key: $API_KEY" --max-time 2
check_status "the daemon answers after the metadata timeout" 200
api DELETE "/api/torrents/$NOHASH" >/dev/null
check_status "the failed torrent can be deleted" 200

stop_daemon

# ---- SIGTERM while reads wait on a swarm that never answers
make_random "$T/g.bin" 8
make_torrent "$T/g.torrent" "$T/g.bin" --piece-size $PIECE
GH=$THASH
start_daemon stall read_timeout_s=120 warm_head_mb=1 warm_tail_mb=1
api POST /api/torrents -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/g.torrent" >/dev/null
check_status "add a .torrent nobody seeds → 201" 201
GU=$(stream_url "$GH" 0)
spawn stall-get curl -sS -g --noproxy '*' --max-time 200 -o /dev/null -H "X-Api-Key: $API_KEY" "$GU"
spawn stall-hls curl -sS -g --noproxy '*' --max-time 200 -o /dev/null -H "X-Api-Key: $API_KEY" \
  "$URL/hls/$GH/0/index.m3u8"
api POST "/api/torrents/$GH/warmup" >/dev/null
sleep 2
check "the daemon answers while those reads wait" sh -c '[ "$(cat "$1/status")" = 202 ] || [ "$(cat "$1/status")" = 200 ]' _ "$T"
# a torrent removed while two players wait on it: both reads end, at once
make_random "$T/h.bin" 4
make_torrent "$T/h.torrent" "$T/h.bin" --piece-size $PIECE
HH=$THASH
api POST /api/torrents -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/h.torrent" >/dev/null
HU=$(stream_url "$HH" 0)
spawn del-get1 curl -sS -g --noproxy '*' --max-time 100 -o /dev/null -H "X-Api-Key: $API_KEY" "$HU"
D1=$LAST_PID
spawn del-get2 curl -sS -g --noproxy '*' --max-time 100 -o /dev/null -H "X-Api-Key: $API_KEY" -r 2000000- "$HU"
D2=$LAST_PID
sleep 1
api DELETE "/api/torrents/$HH" >/dev/null
check_status "DELETE of a torrent two players wait on → 200" 200
check "both waiting GETs end within 5 s" wait_until 5 eval '! alive $D1 && ! alive $D2'
check "the daemon is still running" alive "$DPID"
untrack "$D1"; untrack "$D2"
t0=$(now_ms)
kill -TERM "$DPID"
wait_gone "$DPID" 60
el=$(($(now_ms) - t0))
note "SIGTERM with reads waiting: the daemon was gone after $el ms"
check "it is gone within 5 s of SIGTERM (read_timeout_s is 120)" test "$el" -le 5000
check "and the waiting reads were failed, not waited out" daemon_log_has "waiting read.* failed"
untrack "$DPID"
DPID=''
stop_proc stall-get
stop_proc stall-hls
finish
