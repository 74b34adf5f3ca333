# tests/lib/fuse.sh — what every test of the library mount needs, sourced
# after common.sh: the skips when FUSE is unavailable, MNT, mounted,
# wait_mount, and an exit trap that stops the daemon and lazy-unmounts a
# mount a hard-killed daemon left behind, before the harness removes $T.
#
# Set FUSE_NONROOT_SKIP to a reason to skip when not root (otherwise
# fusermount3 is enough), and define fuse_exit_first to run something first
# at exit (samba.sh stops smbd, which holds files open on the mount). With
# FUSE_OPTIONAL set, a test whose mount is only one part (load.sh) is not
# skipped: FUSE_OK is 0 and FUSE_WHY says why.

MNT=$T/mnt
FUSE_OK=1 FUSE_WHY=''
fuse_unavailable() {
  if [ -n "${FUSE_OPTIONAL:-}" ]; then FUSE_OK=0 FUSE_WHY=$1; else skip_all "$1"; fi
}
[ -e /dev/fuse ] || fuse_unavailable "no /dev/fuse (load the fuse module; in a container pass --device /dev/fuse --cap-add SYS_ADMIN)"
if [ $FUSE_OK = 1 ] && [ "$(id -u)" != 0 ]; then
  [ -n "${FUSE_NONROOT_SKIP:-}" ] && fuse_unavailable "$FUSE_NONROOT_SKIP"
  command -v fusermount3 >/dev/null 2>&1 || fuse_unavailable "not root and no fusermount3 (apt-get install fuse3)"
fi
mounted() { awk -v m="$MNT" '$5 == m && / - fuse\.reelgate / { f = 1 } END { exit !f }' /proc/self/mountinfo; }
# wait_mount — the daemon's mount is up, or a skip when FUSE is not allowed.
wait_mount() {
  wait_until 15 mounted && return 0
  local why
  why=$(grep -h "no FUSE mount" "$DATA/reelgate.log" 2>/dev/null | tail -1)
  case $why in
  *"not permitted"* | *"ermission denied"* | *"no /dev/fuse"*) skip_all "FUSE mount not possible here: ${why#*: }" ;;
  esac
  die "the library mount did not appear at $MNT (${why:-no log line})"
}
fuse_exit() {
  local rc=$?
  if declare -F fuse_exit_first >/dev/null; then fuse_exit_first; fi
  if [ -n "${DPID:-}" ] && alive "$DPID"; then
    kill -TERM "$DPID" 2>/dev/null
    wait_gone "$DPID" 10 || kill -KILL "$DPID" 2>/dev/null
  fi
  if mounted; then umount -l "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null; fi
  (exit $rc)
  cleanup
}
trap fuse_exit EXIT
export LC_ALL=C
