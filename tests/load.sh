#!/usr/bin/env bash
# load.sh — load held (issue 9, item 4), bounded in time and count, loopback
# only:
#  * 64 concurrent HTTP range clients on cached data, 20 random ranges each,
#    a new connection per request (as VLC does on every seek): no errors,
#    every byte equal to the source; p50/p99 latency reported;
#  * 200 concurrent readers of random ranges through the FUSE mount (skipped
#    with a note without /dev/fuse or when mounting is not permitted);
#  * 1000 webhook posts (the Plex fixture) within a minute: every answer
#    2xx/4xx, none 5xx, the daemon responsive after;
#  * memory: RssAnon stays under 300 MiB (LOAD_RSS_MIB) through all of it;
#    VmHWM and RssAnon are reported.
. "$(dirname "$0")/lib/common.sh"
export LC_ALL=C
RSS_BOUND_MIB=${LOAD_RSS_MIB:-300}
FUSE_OPTIONAL=1
. "$(dirname "$0")/lib/fuse.sh" # MNT, FUSE_OK, mounted, the exit trap

mem() { # "VmHWM RssAnon" of the daemon, in KiB
  awk '/^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 } END { print h, a }' "/proc/$DPID/status"
}

mkdir -p "$T/src" "$MNT"
SRCF=$T/src/Load.Test.Film.2020.1080p.WEB-DL.x264-RG.mkv
make_random "$SRCF" 24
SIZE=$(file_size "$SRCF")
seed_ours seed 127.0.0.2 "$SRCF"
MAGNET0=$MAGNET
mopts=()
[ $FUSE_OK = 1 ] && mopts=("mount=$MNT")
start_daemon load ${mopts[@]+"${mopts[@]}"} read_timeout_s=20
add_link "$MAGNET0"
H=$HASH
wait_metadata "$H" 30 || die "no metadata"
SURL=$(stream_url "$H" 0)
# Fill the cache: one whole read.
RANGE_TIMEOUT=60 whole_eq "$SRCF" "$SURL" || die "the first whole read failed"
read -r hwm0 anon0 < <(mem)
note "after caching: VmHWM $((hwm0 / 1024)) MiB, RssAnon $((anon0 / 1024)) MiB"

# ------------------------------------------------------ 64 HTTP clients --
cat >"$T/ranges.py" <<'EOF'
import sys, threading, random, time, http.client, urllib.parse
url, src, nclients, nreq = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(src, 'rb').read()
u = urllib.parse.urlsplit(url)
path = u.path + '?' + u.query
lat, errs = [], []
lock = threading.Lock()
start = threading.Barrier(nclients)
def client(i):
    r = random.Random(i)
    start.wait()
    for k in range(nreq):
        s = r.randrange(len(data)); n = r.choice([1, 4096, 65536, 1 << 20, 4 << 20])
        e = min(len(data) - 1, s + n - 1)
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            c.request('GET', path, headers={'Range': 'bytes=%d-%d' % (s, e)})
            resp = c.getresponse(); body = resp.read(); c.close()
            dt = time.monotonic() - t0
            ok = resp.status == 206 and body == data[s:e + 1]
            with lock:
                lat.append(dt)
                if not ok: errs.append('client %d range %d-%d: HTTP %d, %d bytes%s' % (
                    i, s, e, resp.status, len(body), '' if resp.status != 206 else ' differ'))
        except Exception as ex:
            with lock: errs.append('client %d range %d-%d: %r' % (i, s, e, ex))
ts = [threading.Thread(target=client, args=(i,)) for i in range(nclients)]
t0 = time.monotonic()
for t in ts: t.start()
for t in ts: t.join(120)
wall = time.monotonic() - t0
lat.sort()
def pct(p): return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else -1
print('requests %d errors %d p50_ms %.1f p99_ms %.1f max_ms %.1f wall_s %.1f' % (
    len(lat), len(errs), pct(0.5), pct(0.99), lat[-1] * 1000 if lat else -1, wall))
for e in errs[:5]: print('#', e)
EOF
out=$(timeout 150 python3 "$T/ranges.py" "$SURL" "$SRCF" 64 20)
echo "$out" | sed 's/^\([^#]\)/# \1/'
read -r _ nreq _ nerr _ p50 _ p99 _ pmax _ wall < <(echo "$out" | head -1)
check_eq "64 clients x 20 ranges: all answered" 1280 "${nreq:-0}"
check_eq "64 clients x 20 ranges: no errors, every byte equal to the source" 0 "${nerr:-x}"
note "HTTP range latency: p50 ${p50} ms, p99 ${p99} ms, max ${pmax} ms, wall ${wall} s"
read -r hwm anon < <(mem)
note "after 64 HTTP clients: VmHWM $((hwm / 1024)) MiB, RssAnon $((anon / 1024)) MiB"
check_le "RssAnon after the HTTP clients (KiB)" "$anon" $((RSS_BOUND_MIB * 1024))

# ------------------------------------------------------ 200 FUSE readers --
if [ $FUSE_OK = 1 ] && wait_until 15 mounted; then
  api GET /api/library >/dev/null
  REL=$(jget "[e['path'] for e in j['entries'] if e['info_hash']=='$H'][0]" "$BODY" 2>/dev/null)
  if [ -z "$REL" ] || [ ! -f "$MNT/$REL" ]; then
    fail "the title has a library entry visible in the mount (path '$REL')"
  else
    cat >"$T/fuse.py" <<'EOF'
import sys, os, threading, random, time
f, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
errs, lat = [], []
lock = threading.Lock()
start = threading.Barrier(n)
def reader(i):
    r = random.Random(1000 + i)
    start.wait()
    try:
        fd = os.open(f, os.O_RDONLY)
        try:
            for k in range(3):
                s = r.randrange(len(data)); m = r.choice([4096, 131072, 1 << 20])
                t0 = time.monotonic()
                b = os.pread(fd, m, s)
                dt = time.monotonic() - t0
                with lock:
                    lat.append(dt)
                    if b != data[s:s + m]: errs.append('reader %d at %d: %d bytes, differ' % (i, s, len(b)))
        finally:
            os.close(fd)
    except Exception as ex:
        with lock: errs.append('reader %d: %r' % (i, ex))
ts = [threading.Thread(target=reader, args=(i,)) for i in range(n)]
t0 = time.monotonic()
for t in ts: t.start()
for t in ts: t.join(90)
lat.sort()
def pct(p): return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else -1
print('reads %d errors %d p50_ms %.1f p99_ms %.1f wall_s %.1f alive %d' % (
    len(lat), len(errs), pct(0.5), pct(0.99), time.monotonic() - t0, sum(t.is_alive() for t in ts)))
for e in errs[:5]: print('#', e)
EOF
    out=$(timeout 120 python3 "$T/fuse.py" "$MNT/$REL" "$SRCF" 200)
    echo "$out" | sed 's/^\([^#]\)/# \1/'
    read -r _ nr _ ne _ fp50 _ fp99 _ fwall _ falive < <(echo "$out" | head -1)
    check_eq "200 FUSE readers x 3 random ranges: all done" 600 "${nr:-0}"
    check_eq "200 FUSE readers: no errors, every byte equal to the source" 0 "${ne:-x}"
    note "FUSE read latency: p50 $fp50 ms, p99 $fp99 ms, wall $fwall s"
    check "the daemon is alive after the FUSE readers" alive "$DPID"
  fi
else
  note "SKIP FUSE part: $([ $FUSE_OK = 0 ] && echo "$FUSE_WHY" || grep -h 'no FUSE mount' "$DATA/reelgate.log" | tail -1)"
fi

# ------------------------------------------------------ 1000 webhooks --
api GET /api/webhooks >/dev/null
WURL=$(jget url "$BODY")
[ -n "$WURL" ] || die "GET /api/webhooks gave no url: $BODY"
WURL=$URL/webhook?${WURL#*\?}
cat >"$T/wh.py" <<'EOF'
import sys, threading, time, http.client, urllib.parse, collections
url, body_f, ct_f, n, nthreads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), 16
body = open(body_f, 'rb').read(); ct = open(ct_f).read().strip()
u = urllib.parse.urlsplit(url); path = u.path + '?' + u.query
codes = collections.Counter(); errs = []
lock = threading.Lock(); nxt = [0]
def worker():
    c = None
    while True:
        with lock:
            if nxt[0] >= n: break
            nxt[0] += 1
        try:
            if c is None: c = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
            c.request('POST', path, body=body, headers={'Content-Type': ct})
            r = c.getresponse(); r.read()
            with lock: codes[r.status] += 1
            if r.getheader('Connection', '').lower() == 'close': c.close(); c = None
        except Exception as ex:
            with lock: errs.append(repr(ex))
            c = None
t0 = time.monotonic()
ts = [threading.Thread(target=worker) for _ in range(nthreads)]
for t in ts: t.start()
for t in ts: t.join(90)
wall = time.monotonic() - t0
ok = sum(v for k, v in codes.items() if 200 <= k < 500)
bad = sum(v for k, v in codes.items() if k >= 500)
print('posts %d ok %d n5xx %d errors %d wall_s %.1f codes %s' % (
    sum(codes.values()), ok, bad, len(errs), wall, dict(codes)))
for e in errs[:5]: print('#', e)
EOF
FIX=$RG_SRCDIR/tests/fixtures/webhooks
out=$(timeout 120 python3 "$T/wh.py" "$WURL" "$FIX/plex-media.play-movie.multipart" \
  "$FIX/plex-media.play-movie.multipart.content-type" 1000)
echo "$out" | sed 's/^\([^#]\)/# \1/'
read -r _ np _ nok _ n5 _ ne _ wwall _ < <(echo "$out" | head -1)
check_eq "1000 webhook posts answered 2xx/4xx" 1000 "${nok:-0}"
check_eq "no webhook post answered 5xx" 0 "${n5:-x}"
check_eq "no webhook post failed to connect" 0 "${ne:-x}"
wsecs=${wwall%.*}
check_le "the 1000 posts took at most 60 s" "${wsecs:-999}" 60
t0=$(now_ms)
api GET /api/status >/dev/null
check_status "the daemon answers right after the webhooks" 200
check_le "GET /api/status after the webhooks took (ms)" $(($(now_ms) - t0)) 2000
check "a range still reads correctly after the load" range_eq "$SRCF" "$SURL" 1000 70000

read -r hwm anon < <(mem)
note "at the end: VmHWM $((hwm / 1024)) MiB, RssAnon $((anon / 1024)) MiB"
check_le "RssAnon at the end (KiB, bound ${RSS_BOUND_MIB} MiB)" "$anon" $((RSS_BOUND_MIB * 1024))
check_le "VmHWM at the end (KiB, bound $((RSS_BOUND_MIB + 200)) MiB incl. file-backed pages)" "$hwm" $(((RSS_BOUND_MIB + 200) * 1024))
stop_daemon
check "the mount is gone after SIGTERM" eval '! mounted'
finish
