#!/bin/sh
# samba.sh — the FUSE mount re-exported by a real smbd, with the share
# configuration the README gives (read only, no oplocks, async reads,
# vfs_fileid): a private smbd on 127.0.0.1:4450 (its own private, lock,
# state, cache and pid dirs under $T), guest access; smbclient lists and gets
# files (bytes equal to the sources), put/rm/mkdir are refused, and a read of
# data the swarm cannot deliver fails in bounded time while smbd keeps
# serving the other files.
# Needs smbd + smbclient (apt-get install samba smbclient; vfs_fileid is in
# samba-vfs-modules); skips (77) without them or without FUSE.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg
command -v smbd >/dev/null 2>&1 || [ -x /usr/sbin/smbd ] || skip_all "smbd is not installed (apt-get install samba samba-vfs-modules)"
SMBD=$(command -v smbd 2>/dev/null || echo /usr/sbin/smbd)
need smbclient

SMB_PORT=${RG_SMB_PORT:-4450}
FUSE_NONROOT_SKIP="smbd needs root here (it switches to the guest account)"
# smbd first at exit: it holds files open on the mount
fuse_exit_first() { [ -n "${PIDOF[smbd]:-}" ] && stop_proc smbd 5; }
. "$(dirname "$0")/lib/fuse.sh"
port_open 127.0.0.1 "$SMB_PORT" && skip_all "port $SMB_PORT is taken (set RG_SMB_PORT)"

mkdir -p "$T/src" "$MNT"
chmod 711 "$T" # smbd serves the guest as nobody: it must reach $T/mnt
MOVIE=$T/src/Samba.Test.Movie.2018.1080p.WEB-DL.x264-RG.mkv
EP=$T/src/Samba.Show.S02E05.720p.HDTV.x264-RG.mkv
STALL=$T/src/Samba.Stalled.2017.1080p.BluRay.x264-RG.mkv
make_video "$MOVIE" 10 640x360 4M
make_video "$EP" 5 320x240 2M
make_video "$STALL" 6 640x360 4M
# The background probe reads a title's head and tail as soon as its metadata
# arrives; padding keeps the middle of this one (what the stall reads) on
# the swarm only.
head -c $((32 << 20)) /dev/urandom >> "$STALL"
seed_ours seed-movie 127.0.0.2 "$MOVIE"
MOVIE_HASH=$HASH M1=$MAGNET
seed_ours seed-ep 127.0.0.3 "$EP"
EP_HASH=$HASH M2=$MAGNET
seed_ours seed-stall 127.0.0.4 "$STALL"
STALL_HASH=$HASH M3=$MAGNET

start_daemon samba "mount=$MNT" read_timeout_s=4 warm_quota_mb=0
wait_mount
for m in "$M1" "$M2" "$M3"; do add_link "$m"; done
lib3() { api GET /api/library >/dev/null; [ "$(jget 'len(j["entries"])' "$BODY" 2>/dev/null)" = 3 ]; }
check "3 library entries" wait_until 60 lib3
LIB=$BODY
path_of() { jget "[e['path'] for e in j['entries'] if e['info_hash'] == '$1'][0]" "$LIB"; }
P_MOVIE=$(path_of "$MOVIE_HASH")
P_EP=$(path_of "$EP_HASH")
P_STALL=$(path_of "$STALL_HASH")
wait_until 10 test -f "$MNT/$P_STALL" || die "the files did not appear in the mount"

# ---- a private smbd exporting the mount, with the README's share section
S=$T/smb
mkdir -p "$S/private" "$S/lock" "$S/state" "$S/cache" "$S/pid" "$S/log" "$S/ncalrpc"
chmod 700 "$S/private"
cat >"$S/smb.conf" <<EOF
[global]
  server role = standalone server
  workgroup = RGTEST
  netbios name = RGTEST
  smb ports = $SMB_PORT
  interfaces = 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  server min protocol = SMB2_10
  private dir = $S/private
  lock directory = $S/lock
  state directory = $S/state
  cache directory = $S/cache
  pid directory = $S/pid
  ncalrpc dir = $S/ncalrpc
  passdb backend = tdbsam:$S/private/passdb.tdb
  log file = $S/log/log.%m
  log level = 1
  map to guest = Bad User
  guest account = nobody
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes

# ---- the share, as in README.md
[library]
  path = $MNT
  comment = reelgate library
  read only = yes
  guest ok = yes
  browseable = yes
  oplocks = no
  level2 oplocks = no
  kernel oplocks = no
  aio read size = 1
  use sendfile = no
  vfs objects = fileid
  fileid:algorithm = fsname
  posix locking = no
  store dos attributes = no
  ea support = no
  map archive = no
EOF
"$(dirname "$SMBD")/../bin/testparm" -s "$S/smb.conf" >"$T/testparm.out" 2>&1 ||
  testparm -s "$S/smb.conf" >"$T/testparm.out" 2>&1 || true
# In its own session: on SIGTERM smbd signals its whole process group, which
# would otherwise be this script's.
spawn smbd setsid "$SMBD" --foreground --no-process-group --debug-stdout --configfile="$S/smb.conf"
wait_until 20 port_open 127.0.0.1 "$SMB_PORT" || die "smbd did not listen on $SMB_PORT: $(tail -5 "$T/smbd.out")"
pass "smbd listens on 127.0.0.1:$SMB_PORT"

smb() { # COMMANDS — runs smbclient as guest, output in ${SMB_OUT:-$T/smb.txt}
  timeout "${SMB_TIMEOUT:-60}" smbclient "//127.0.0.1/library" -p "$SMB_PORT" -N -m SMB3 \
    -c "$1" >"${SMB_OUT:-$T/smb.txt}" 2>&1
}
smb "recurse; ls"
check_eq "smbclient recursive ls exits 0" 0 "$?"
check "ls shows the movie" grep -qF "$(basename "$P_MOVIE")" "$T/smb.txt"
check "ls shows the episode" grep -qF "$(basename "$P_EP")" "$T/smb.txt"
check "ls shows the movie's size" grep -q " $(file_size "$MOVIE") " "$T/smb.txt"
check "smbd loaded vfs_fileid (no load error in its log)" sh -c '! grep -qi "fileid.*\(fail\|error\)" "$1"/log/* "$2" 2>/dev/null' _ "$S" "$T/smbd.out"

smbget() { # MNTPATH OUT
  local d f
  d=$(dirname "$1" | tr / '\\')
  f=$(basename "$1")
  smb "cd \"$d\"; get \"$f\" \"$2\""
}
t0=$(now_ms)
smbget "$P_MOVIE" "$T/got-movie.mkv"
check_eq "smbclient get of the movie exits 0" 0 "$?"
note "get movie ($(file_size "$MOVIE") bytes): $(($(now_ms) - t0)) ms"
check "the movie's bytes over SMB equal the source" cmp "$MOVIE" "$T/got-movie.mkv"
smbget "$P_EP" "$T/got-ep.mkv"
check "the episode's bytes over SMB equal the source" cmp "$EP" "$T/got-ep.mkv"
smbget "$P_MOVIE" "$T/got-movie2.mkv"
check "a second get (from the page cache) is equal too" cmp "$MOVIE" "$T/got-movie2.mkv"

# ---- writes are refused
echo hello >"$T/up.txt"
refused() { # COMMANDS — smbclient reports an NT_STATUS error
  smb "$1"
  grep -q "NT_STATUS_" "$T/smb.txt" || { note "$1: $(head -c 300 "$T/smb.txt")"; return 1; }
}
check "put is refused" refused "put \"$T/up.txt\" up.txt"
check "mkdir is refused" refused "mkdir newdir"
d=$(dirname "$P_MOVIE" | tr / '\\')
check "rm is refused" refused "cd \"$d\"; rm \"$(basename "$P_MOVIE")\""
check "rename is refused" refused "cd \"$d\"; rename \"$(basename "$P_MOVIE")\" x.mkv"
check "the movie is still in the library" test -f "$MNT/$P_MOVIE"

# ---- a stalled read fails in bounded time; smbd keeps serving
stop_proc seed-stall
stop_proc seed-movie
stop_proc seed-ep
t0=$(now_ms)
SMB_TIMEOUT=40 SMB_OUT=$T/smb-stall.txt smbget "$P_STALL" "$T/got-stall.mkv" &
STALLP=$!
sleep 1
t1=$(now_ms)
smb "recurse; ls"
check_eq "during the stalled read, ls works" 0 "$?"
smbget "$P_EP" "$T/got-ep2.mkv"
check "during the stalled read, the episode reads (from another smbclient)" cmp "$EP" "$T/got-ep2.mkv"
note "ls + get during the stall: $(($(now_ms) - t1)) ms"
wait $STALLP
rc=$?
el=$(($(now_ms) - t0))
note "stalled get: exit $rc after $el ms: $(grep -m1 NT_STATUS "$T/smb-stall.txt" 2>/dev/null)"
check "the stalled get fails (no hang, no bogus bytes)" sh -c '[ "$1" != 0 ] || ! cmp -s "$2" "$3"' _ "$rc" "$STALL" "$T/got-stall.mkv"
check "… with an I/O error (NT_STATUS_IO_DEVICE_ERROR)" grep -q NT_STATUS_IO_DEVICE_ERROR "$T/smb-stall.txt"
check_le "… within read_timeout_s + 5 s (ms)" "$el" 9000
check "smbd is still running" alive "${PIDOF[smbd]}"
smbget "$P_MOVIE" "$T/got-movie3.mkv"
check "after the stall, the movie reads over SMB" cmp "$MOVIE" "$T/got-movie3.mkv"

stop_proc smbd 5 || note "smbd needed SIGKILL"
stop_daemon
finish
