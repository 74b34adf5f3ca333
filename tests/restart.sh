#!/bin/sh
# restart.sh — what survives a daemon restart: the torrent list, titles and
# metadata come back from DATA/reelgate.db (no new metadata fetch), cached and
# uncached reads work at once; a deleted torrent stays deleted.
. "$(dirname "$0")/lib/common.sh"

make_random_bytes "$T/src.bin" $((24 * 1048576 + 4321))
F=$T/src.bin
SIZE=$(file_size "$F")
seed_ours seeder 127.0.0.2 "$F"
H=$HASH

IDLE=4
start_daemon restart readahead_mb=1 idle_timeout_s=$IDLE
add_link "$MAGNET" "Kept Title"
check_status "add magnet → 201" 201
check "metadata arrives" wait_metadata "$H" 30
U=$(stream_url "$H" 0)
check "head before restart" range_eq "$F" "$U" 0 1048575
check "tail before restart" range_eq "$F" "$U" $((SIZE - 65536)) $((SIZE - 1))
check "metadata_fetches counts the fetch" test "$(status_field metadata_fetches)" -ge 1

restart_daemon
# The very first answer must already know everything.
torrent "$H"
check_status "torrent listed right after the restart" 200
check_eq "has_metadata true right after the restart" true "$(jget has_metadata "$BODY")"
check_eq "size kept" "$SIZE" "$(jget size "$BODY")"
check_eq "title kept" "Kept Title" "$(jget title "$BODY")"
check_eq "file list kept" 1 "$(jget 'len(j["files"])' "$BODY")"
check_eq "metadata_fetches is 0 after the restart" 0 "$(status_field metadata_fetches)"
U2=$(stream_url "$H" 0)
check_eq "stream_url unchanged" "$U" "$U2"
check "cached head after restart" range_eq "$F" "$U2" 0 1048575
check "uncached middle after restart (from the seeder)" range_eq "$F" "$U2" $((SIZE / 2)) $((SIZE / 2 + 2097151))
check "10 random ranges after restart" random_ranges_eq "$F" "$U2" 10 1048576
check_eq "still no metadata fetch after reading" 0 "$(status_field metadata_fetches)"
api GET /api/torrents >/dev/null
check_eq "list has the one torrent" "$H" "$(jget torrents.0.info_hash "$BODY")"

# ---- idle: unread for idle_timeout_s, the torrent leaves the session and
# comes back on the next read.
inactive() { [ "$(tfield "$H" active)" = false ]; }
check "unread for idle_timeout_s → active false" wait_until $((IDLE + 10)) inactive
check "a read brings it back with correct bytes" range_eq "$F" "$U2" $((SIZE - 3000000)) $((SIZE - 2000000))
check_eq "active again after the read" true "$(tfield "$H" active)"

api DELETE "/api/torrents/$H" >/dev/null
check_status "delete → 200" 200
restart_daemon
torrent "$H"
check_status "deleted torrent is gone after a restart" 404
api GET /api/torrents >/dev/null
check_eq "list is empty after the restart" 0 "$(jget 'len(j["torrents"])' "$BODY")"
check_eq "status counts 0 torrents" 0 "$(status_field torrents)"

stop_daemon
finish
