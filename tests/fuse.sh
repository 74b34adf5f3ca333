#!/bin/sh
# fuse.sh — the FUSE library mount (--mount DIR) over a loopback swarm.
#  * a movie and two episodes (real H.264/AAC, MKV and MP4) and a fourth
#    title, each its own torrent seeded by `reelgate seed` on 127.0.0.x;
#    library entries appear by themselves from the release names;
#  * ls -R, stat sizes, inode numbers equal to the API's and unchanged across
#    a restart, cmp of whole files, 30 random ranges, ffprobe, 4 concurrent
#    readers on a fresh (uncached) mount;
#  * a stalled swarm: the seeders die, a read of data nobody has fails with
#    EIO within read_timeout_s + 5 s while the mount keeps serving;
#  * writes, mkdir, rename, touch, rmdir → EROFS; rm of a file removes its
#    library entry; SIGTERM unmounts; a stale mount left by kill -9 is
#    cleared at the next start; a mount that cannot be made leaves HTTP up.
# Skips (77) without /dev/fuse or when mounting is not permitted.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg ffprobe dd cmp

. "$(dirname "$0")/lib/fuse.sh"

# ---- sources: release-named files, one torrent each
mkdir -p "$T/src" "$MNT"
MOVIE=$T/src/The.Test.Movie.2019.1080p.WEB-DL.x264-RG.mkv
EP1=$T/src/Test.Show.S01E01.720p.HDTV.x264-RG.mkv
EP2=$T/src/Test.Show.S01E02.720p.HDTV.x264-RG.mp4
STALL=$T/src/Stalled.Film.2021.1080p.BluRay.x264-RG.mkv
make_video "$MOVIE" 12 640x360 4M
make_video "$EP1" 6 320x240 2M
make_video "$EP2" 6 320x240 2M
make_video "$STALL" 8 640x360 4M
# The background probe reads a title's head and tail as soon as its metadata
# arrives; padding keeps the middle of this one (what the stall reads) on
# the swarm only.
head -c $((32 << 20)) /dev/urandom >> "$STALL"
note "sizes: movie $(file_size "$MOVIE"), ep1 $(file_size "$EP1"), ep2 $(file_size "$EP2"), stall $(file_size "$STALL")"

declare -A SRC=() # info hash -> source file
declare -a MAGNETS=()
i=2
for f in "$MOVIE" "$EP1" "$EP2" "$STALL"; do
  seed_ours "seed-$i" "127.0.0.$i" "$f"
  SRC[$HASH]=$f
  MAGNETS+=("$MAGNET")
  case $f in "$MOVIE") MOVIE_HASH=$HASH ;; "$EP1") EP1_HASH=$HASH ;; "$EP2") EP2_HASH=$HASH ;; "$STALL") STALL_HASH=$HASH ;; esac
  i=$((i + 1))
done

# warm_quota_mb=0: the stalled title below must not be kept by the warmup
# store when the background probe reads it
start_daemon fuse "mount=$MNT" warm_quota_mb=0
wait_mount
pass "the library is mounted at $MNT (fuse.reelgate)"
check "the mount log line" daemon_log_has "mounted the library at"
check "the bdi read-ahead was raised to 1024 KiB" sh -c '
  dev=$(awk -v m="$1" "\$5 == m { print \$3 }" /proc/self/mountinfo | tail -1)
  [ "$(cat /sys/class/bdi/$dev/read_ahead_kb 2>/dev/null)" = 1024 ]' _ "$MNT"

for m in "${MAGNETS[@]}"; do
  add_link "$m"
  [ "$STATUS" = 201 ] || fail "add $m → $STATUS"
done
lib_count() { api GET /api/library >/dev/null; jget 'len(j["entries"])' "$BODY" 2>/dev/null; }
has4() { [ "$(lib_count)" = 4 ]; }
check "4 automatic library entries within 60 s" wait_until 60 has4
api GET /api/library >/dev/null
LIB=$BODY
path_of() { jget "[e['path'] for e in j['entries'] if e['info_hash'] == '$1'][0]" "$LIB"; }
ino_of() { jget "[e['inode'] for e in j['entries'] if e['info_hash'] == '$1'][0]" "$LIB"; }
P_MOVIE=$(path_of "$MOVIE_HASH")
P_EP1=$(path_of "$EP1_HASH")
P_EP2=$(path_of "$EP2_HASH")
P_STALL=$(path_of "$STALL_HASH")
note "paths: $P_MOVIE | $P_EP1 | $P_EP2 | $P_STALL"
check_eq "movie path" "movies/The Test Movie (2019)/The Test Movie (2019).mkv" "$P_MOVIE"
check "episode path (tv/Show/Season 01/Show - S01E01.mkv)" sh -c 'case "$1" in "tv/Test Show"*"/Season 01/Test Show"*" - S01E01.mkv") exit 0;; esac; exit 1' _ "$P_EP1"
check "MP4 episode keeps its extension" sh -c 'case "$1" in *" - S01E02.mp4") exit 0;; esac; exit 1' _ "$P_EP2"

# ---- the tree
check "the 4 files show up in the mount" wait_until 10 test -f "$MNT/$P_STALL"
ls -R "$MNT" >"$T/ls-R.txt" 2>&1
check_eq "ls -R exits 0" 0 "$?"
check_eq "ls -R lists 4 files" 4 "$(find "$MNT" -type f | wc -l)"
check "ls -R shows the movie" grep -qF "The Test Movie (2019).mkv" "$T/ls-R.txt"
for h in "$MOVIE_HASH" "$EP1_HASH" "$EP2_HASH" "$STALL_HASH"; do
  p=$(path_of "$h")
  check_eq "stat size of $p" "$(file_size "${SRC[$h]}")" "$(stat -c %s "$MNT/$p")"
  check_eq "st_ino of $p is the library's inode" "$(ino_of "$h")" "$(stat -c %i "$MNT/$p")"
done
check_eq "the root is inode 1" 1 "$(stat -c %i "$MNT")"
check "files are read-only (0444), dirs 0755" sh -c '[ "$(stat -c %a "$1/$2")" = 444 ] && [ "$(stat -c %a "$1/movies")" = 755 ]' _ "$MNT" "$P_MOVIE"
check "statfs answers (df)" sh -c 'df "$1" >/dev/null' _ "$MNT"
(cd "$MNT" && find . -printf '%i %p\n' | sort -k2) >"$T/inodes.before"

# ---- content (the stalled title is never read while its seeder lives)
for h in "$MOVIE_HASH" "$EP1_HASH" "$EP2_HASH"; do
  p=$(path_of "$h")
  t0=$(now_ms)
  check "cmp whole $p" cmp "${SRC[$h]}" "$MNT/$p"
  note "cmp $p: $(($(now_ms) - t0)) ms"
done
for h in "$MOVIE_HASH" "$EP1_HASH" "$EP2_HASH"; do
  p=$(path_of "$h")
  timeout 60 ffprobe -v error -analyzeduration 200M -probesize 1G -show_streams \
    -show_format -show_chapters -of json "$MNT/$p" >"$T/probe.json" 2>"$T/probe.err"
  check_eq "ffprobe (Jellyfin flags) on $p exits 0" 0 "$?"
  check_eq "ffprobe sees h264 + aac in $p" "h264 aac" \
    "$(jget '" ".join(s["codec_name"] for s in j["streams"])' "$(cat "$T/probe.json")")"
done

# ---- read-only
erofs() { # CMD... fails with "Read-only file system"
  "$@" >"$T/erofs.out" 2>&1 && return 1
  grep -q "Read-only file system" "$T/erofs.out" || { note "$*: $(cat "$T/erofs.out")"; return 1; }
}
check "create a file → EROFS" erofs sh -c 'echo x >"$1/movies/new.txt"' _ "$MNT"
check "append to a file → EROFS" erofs sh -c 'echo x >>"$1/$2"' _ "$MNT" "$P_MOVIE"
check "mkdir → EROFS" erofs mkdir "$MNT/movies/newdir"
check "rename → EROFS" erofs mv "$MNT/$P_MOVIE" "$MNT/movies/renamed.mkv"
check "touch (setattr) → EROFS" erofs touch "$MNT/$P_MOVIE"
check "rmdir → EROFS" erofs rmdir "$MNT/tv"
check "symlink → EROFS" erofs ln -s x "$MNT/movies/link"
check "chmod → EROFS" erofs chmod 600 "$MNT/$P_MOVIE"

# ---- restart: same inodes; a short read timeout for the stall below
DAEMON_ENV+=(read_timeout_s=3)
restart_daemon
wait_mount
(cd "$MNT" && find . -printf '%i %p\n' | sort -k2) >"$T/inodes.after"
check "inode numbers unchanged across a restart (files and dirs)" cmp "$T/inodes.before" "$T/inodes.after"

# Right after the new mount nothing is in the page cache: these reach us.
declare -a RP=()
reader() { # NAME SRC MNTPATH OFFSET LEN
  dd if="$3" iflag=skip_bytes,count_bytes skip="$4" count="$5" bs=256k status=none 2>"$T/$1.err" |
    cmp -s - <(dd if="$2" iflag=skip_bytes,count_bytes skip="$4" count="$5" bs=256k status=none)
}
MS=$(file_size "$MOVIE")
t0=$(now_ms)
reader r1 "$MOVIE" "$MNT/$P_MOVIE" 0 $((MS / 2)) & RP+=($!)
reader r2 "$MOVIE" "$MNT/$P_MOVIE" $((MS / 2)) $((MS - MS / 2)) & RP+=($!)
reader r3 "$EP1" "$MNT/$P_EP1" 0 "$(file_size "$EP1")" & RP+=($!)
reader r4 "$EP2" "$MNT/$P_EP2" 0 "$(file_size "$EP2")" & RP+=($!)
bad=0
for p in "${RP[@]}"; do wait "$p" || bad=$((bad + 1)); done
check_eq "4 concurrent readers (two on one file) get the right bytes" 0 "$bad"
note "4 concurrent readers: $(($(now_ms) - t0)) ms"

range_ok() { # SRC MNTFILE START LEN
  cmp -s <(dd if="$2" iflag=skip_bytes,count_bytes skip="$3" count="$4" bs=64k status=none) \
    <(dd if="$1" iflag=skip_bytes,count_bytes skip="$3" count="$4" bs=64k status=none)
}
bad=0
while read -r s e; do
  range_ok "$MOVIE" "$MNT/$P_MOVIE" "$s" $((e - s + 1)) || { bad=$((bad + 1)); note "range $s-$e differs"; }
done < <(py ranges "$MS" 20 3000000 fuse-movie)
while read -r s e; do
  range_ok "$EP1" "$MNT/$P_EP1" "$s" $((e - s + 1)) || { bad=$((bad + 1)); note "ep1 range $s-$e differs"; }
done < <(py ranges "$(file_size "$EP1")" 10 500000 fuse-ep1)
check_eq "30 random ranges (dd skip_bytes,count_bytes) equal the sources" 0 "$bad"

# ---- stalled swarm: no seeder has the fourth title any more
for i in 2 3 4 5; do stop_proc "seed-$i"; done
SS=$(file_size "$STALL")
t0=$(now_ms)
dd if="$MNT/$P_STALL" iflag=skip_bytes,count_bytes skip=$((SS / 2)) count=65536 \
  of=/dev/null status=none 2>"$T/stall.err" &
STALL_PID=$!
sleep 0.5
t1=$(now_ms)
check "during the stalled read, a cached file reads fine" cmp "$MOVIE" "$MNT/$P_MOVIE"
check "during the stalled read, ls -R works" sh -c 'ls -R "$1" >/dev/null' _ "$MNT"
serve_ms=$(($(now_ms) - t1))
check_le "… and quickly (ms)" "$serve_ms" 2500
wait "$STALL_PID"
rc=$?
el=$(($(now_ms) - t0))
note "stalled read: exit $rc after $el ms: $(cat "$T/stall.err")"
check "the stalled read fails" test "$rc" != 0
check "… with EIO (Input/output error)" grep -q "Input/output error" "$T/stall.err"
check_le "… within read_timeout_s + 5 s (ms)" "$el" 8000
check_le "… and the kernel's retry of the page did not wait a second time (ms)" "$el" 5500
check "the daemon logged the timed-out read" daemon_log_has "not served within"
check "after the stall, an episode still reads" cmp "$EP1" "$MNT/$P_EP1"

# ---- rm removes the library entry
rm -f "$MNT/$P_EP2"
check_eq "rm of a library file exits 0" 0 "$?"
check "the file is gone from the mount" test ! -e "$MNT/$P_EP2"
has3() { [ "$(lib_count)" = 3 ]; }
check "GET /api/library no longer lists it" has3
check "the daemon logged the removal" daemon_log_has "unlinked through the mount"
check "the other episode is still there" test -f "$MNT/$P_EP1"

# ---- SIGTERM unmounts
stop_daemon
check "the mount is gone after SIGTERM" sh -c '! awk -v m="$1" "\$5 == m" /proc/self/mountinfo | grep -q .' _ "$MNT"
check "the daemon logged the unmount" daemon_log_has "unmounted the library"

# ---- a stale mount (daemon killed hard) is cleared at the next start
launch_daemon
wait_mount
kill -KILL "$DPID"
wait_gone "$DPID" 5
untrack "$DPID"
DPID=''
check "kill -9 leaves a stale mount (ENOTCONN)" sh -c 'ls "$1" 2>&1 | grep -q "not connected"' _ "$MNT"
launch_daemon
wait_mount
check "the next start logs clearing the stale mount" daemon_log_has "clearing a stale mount at $MNT"
check "… and serves the library again" cmp "$MOVIE" "$MNT/$P_MOVIE"
stop_daemon

# ---- a mount that cannot be made leaves the daemon and HTTP up
: >"$T/not-a-dir"
start_daemon fuse-off "mount=$T/not-a-dir"
check "a failed mount is logged with its cause" daemon_log_has "no FUSE mount at $T/not-a-dir"
api GET /api/status >/dev/null
check_status "HTTP answers without the mount" 200
stop_daemon
finish
