# tests/lib/common.sh — harness for reelgate's shell integration tests.
#
# Sourced by every tests/*.sh. It owns one temporary directory ($T) and every
# process a test starts (daemon, seeders, tracker, fake HTTP servers); an EXIT
# trap stops them all (SIGTERM, bounded wait, then SIGKILL) and removes $T,
# whatever way the test ends. Process-starting helpers must be called
# directly, never inside $(...): a subshell would lose the PID.
#
# Environment (set by `make check`): RG_BIN (absolute path of ./reelgate),
# RG_SRCDIR, RG_BUILDDIR. Optional: RG_KEEP_TMP=1 keeps $T,
# RG_TEST_LOG_LEVEL sets the daemon's log level (default info).
#
# Exit status of a test: 0 all checks passed, 1 a check failed, 77 skipped
# (reason printed), 99 the harness itself could not run.

# automake runs tests with $(SHELL), usually dash; the tests need bash.
if [ -z "${BASH_VERSION:-}" ]; then
  if command -v bash >/dev/null 2>&1; then exec bash "$0" "$@"; fi
  echo "SKIP: bash is required"; exit 77
fi

set -u

# Only what a test sets reaches the daemon.
for _v in $(env | sed -n 's/^\(REELGATE_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$_v"; done

TEST_NAME=$(basename "$0" .sh)
_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RG_SRCDIR=${RG_SRCDIR:-$(cd "$_here/../.." && pwd)}
RG_BUILDDIR=${RG_BUILDDIR:-$RG_SRCDIR}
RG_BIN=${RG_BIN:-$RG_BUILDDIR/reelgate}
API_KEY=rg-test-key-5f2c9a61d0e84b7c
# the stream key the daemon derives from it (rg_http_stream_key)
stream_key_of() { python3 -c 'import hashlib, sys; print(hashlib.sha256(b"reelgate stream key v1\n" + sys.argv[1].encode()).hexdigest()[:32])' "$1"; }
STREAM_KEY=$(stream_key_of "$API_KEY")
CURL_MAX=${CURL_MAX:-60}

# Sanitizer builds run several times slower: stretch start-up waits.
SLOW=1
[ -n "${RG_SANITIZED:-}" ] && SLOW=3

# The system python starts fastest (a pyenv shim adds ~0.1 s per call, and
# jget runs often); any python3 >= 3.9 works.
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import random; random.Random(1).randbytes' 2>/dev/null &&
    PYTHON=/usr/bin/python3
fi
# a path, never the bare name: the python3 function below would shadow it
# (spawn must start the program itself)
case $PYTHON in */*) ;; *) PYTHON=$(type -P "$PYTHON" || echo "$PYTHON") ;; esac
python3() { "$PYTHON" "$@"; }

N=0 FAILS=0
declare -a PIDS=()          # every process we started, in start order
declare -A PIDOF=()         # name -> pid
declare -A NAMEOF=()        # pid -> name
DPID='' URL='' DATA='' RG_PORT='' DNAME=''
declare -a DAEMON_ENV=()
STATUS='' BODY=''

T=$(mktemp -d "${TMPDIR:-/tmp}/rg-$TEST_NAME.XXXXXX") || { echo "cannot create temp dir"; exit 99; }

# ---------------------------------------------------------------- results --

pass() { N=$((N + 1)); echo "ok $N - $1"; }
fail() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $1"; }
note() { echo "# $*"; }

# check "description" CMD... — runs CMD, counts ok/not ok.
check() {
  local desc=$1; shift
  if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# check_eq "description" EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}

# check_status "description" EXPECTED — compares $STATUS (from api/http).
check_status() {
  if [ "$STATUS" = "$2" ]; then pass "$1"
  else fail "$1 (expected HTTP $2, got $STATUS; body: $(printf '%s' "$BODY" | head -c 400))"; fi
}

# check_le "description" A B — integer A <= B
check_le() {
  if [ -n "$2" ] && [ -n "$3" ] && [ "$2" -le "$3" ] 2>/dev/null; then pass "$1 ($2 <= $3)"
  else fail "$1 (expected '$2' <= '$3')"; fi
}

skip_all() { echo "SKIP: $*"; exit 77; }

# die MESSAGE — a setup step failed: later checks would mean nothing.
die() {
  echo "Bail out! $*"
  FAILS=$((FAILS + 1))
  dump_logs
  exit 1
}

dump_logs() {
  local f
  if [ -n "$DATA" ] && [ -f "$DATA/reelgate.log" ]; then
    echo "# ---- last 60 lines of $DATA/reelgate.log ----"
    tail -n 60 "$DATA/reelgate.log" | sed 's/^/# /'
  fi
  if [ -n "$DATA" ] && [ -s "$DATA/daemon.out" ]; then
    echo "# ---- last 20 lines of daemon stdout/stderr ----"
    tail -n 20 "$DATA/daemon.out" | sed 's/^/# /'
  fi
  for f in "$T"/*.out; do
    [ -s "$f" ] || continue
    echo "# ---- last 8 lines of $(basename "$f") ----"
    tail -n 8 "$f" | sed 's/^/# /'
  done
}

finish() {
  echo "1..$N"
  if [ "$FAILS" -gt 0 ]; then
    echo "# $TEST_NAME: $FAILS of $N checks failed"
    dump_logs
    exit 1
  fi
  echo "# $TEST_NAME: all $N checks passed"
  exit 0
}

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed"
  done
}

# need_chromium — headless Chromium and node for the browser tests: exports
# CHROMIUM (the environment's, or the one on PATH), or skips.
need_chromium() {
  CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
  [ -n "$CHROMIUM" ] || skip_all "chromium is not installed (apt-get install chromium)"
  command -v node >/dev/null 2>&1 || skip_all "node is not installed (apt-get install npm)"
  export CHROMIUM
}

# --------------------------------------------------------------- processes --

# track PID NAME — adds a process to the set the EXIT trap stops.
track() {
  PIDS+=("$1")
  PIDOF[$2]=$1
  NAMEOF[$1]=$2
}

# alive PID — running (a zombie awaiting its reaping counts as gone).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
  [ "$st" != Z ]
}

# spawn NAME CMD... — runs CMD in the background, output in $T/NAME.out,
# and sets LAST_PID. Never call inside $(...). CMD must be a program: a
# shell function (the python3 wrapper above is one) would run in a forked
# bash whose PID is not the program's, and stopping that PID would leave the
# program running; python3 is therefore started as $PYTHON itself.
spawn() {
  local name=$1; shift
  [ "$1" = python3 ] && set -- "$PYTHON" "${@:2}"
  case $(type -t "$1") in
  function | builtin | keyword) die "spawn $name: '$1' is a shell $(type -t "$1"), not a program: its PID would not be tracked" ;;
  esac
  "$@" >"$T/$name.out" 2>&1 &
  LAST_PID=$!
  track "$LAST_PID" "$name"
}

# wait_gone PID SECONDS — reaps PID if it is our child; 0 if it exited.
wait_gone() {
  local pid=$1 i n=$(($2 * 10))
  for ((i = 0; i < n; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then return 1; fi
  wait "$pid" 2>/dev/null
  return 0
}

# stop_pid PID [SECONDS] — SIGTERM, bounded wait, SIGKILL. 0 if it exited
# on SIGTERM in time.
stop_pid() {
  local pid=$1 secs=${2:-5} rc=0
  [ -n "$pid" ] || return 0
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    if ! wait_gone "$pid" "$secs"; then
      rc=1
      kill -KILL "$pid" 2>/dev/null
      wait_gone "$pid" 5 || true
    fi
  else
    wait "$pid" 2>/dev/null
  fi
  untrack "$pid"
  return $rc
}

untrack() {
  local pid=$1 i name=${NAMEOF[$1]:-}
  for i in "${!PIDS[@]}"; do
    [ "${PIDS[$i]}" = "$pid" ] && unset 'PIDS[i]'
  done
  if [ -n "$name" ]; then
    [ "${PIDOF[$name]:-}" = "$pid" ] && unset 'PIDOF[$name]'
    unset 'NAMEOF[$pid]'
  fi
}

# stop_proc NAME [SECONDS]
stop_proc() { stop_pid "${PIDOF[$1]:-}" "${2:-5}"; }

# descendants PID — the PIDs of PID's children, grandchildren…
descendants() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}

cleanup() {
  local rc=$? pid i
  trap - EXIT INT TERM HUP
  # Whatever a tracked process started goes too: once its parent is gone it
  # is re-parented and could no longer be found.
  for pid in "${PIDS[@]}"; do
    for i in $(descendants "$pid"); do
      [ -n "${NAMEOF[$i]:-}" ] || track "$i" "${NAMEOF[$pid]:-?}/child-$i"
    done
  done
  # SIGTERM everything (newest first), then one bounded wait, then SIGKILL.
  local idx=("${!PIDS[@]}") # sparse after untrack
  for ((i = ${#idx[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[${idx[$i]}]}
    kill -TERM "$pid" 2>/dev/null
  done
  for ((i = 0; i < 50; i++)); do
    local any=0
    for pid in "${PIDS[@]}"; do alive "$pid" && any=1; done
    [ $any = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do
    if alive "$pid"; then
      echo "# cleanup: pid $pid (${NAMEOF[$pid]:-?}) ignored SIGTERM, killing ($(grep -E "^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):" "/proc/$pid/status" 2>/dev/null | tr -s "\t\n" "  "))"
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  if [ -n "${RG_KEEP_TMP:-}" ]; then
    echo "# kept $T"
  else
    rm -rf "$T"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --------------------------------------------------------- python helpers --

cat >"$T/rg.py" <<'PYEOF'
import sys, os, json, random, socket, hashlib, base64, urllib.parse

def bdecode(b, i=0):
    c = b[i:i+1]
    if c == b'i':
        j = b.index(b'e', i); return int(b[i+1:j]), j + 1
    if c == b'l':
        i += 1; out = []
        while b[i:i+1] != b'e':
            v, i = bdecode(b, i); out.append(v)
        return out, i + 1
    if c == b'd':
        i += 1; out = {}; start = {}
        while b[i:i+1] != b'e':
            k, i = bdecode(b, i); s = i
            v, i = bdecode(b, i); out[k] = v; start[k] = (s, i)
        out[b'__spans__'] = start
        return out, i + 1
    j = b.index(b':', i); n = int(b[i:j])
    return b[j+1:j+1+n], j + 1 + n

def jpath(j, path):
    import re
    if not re.fullmatch(r'[A-Za-z0-9_.]*', path):
        return eval(path, {'j': j})
    for p in path.split('.') if path else []:
        if isinstance(j, list):
            j = j[int(p)]
        else:
            j = j[p]
    return j

def out(v):
    if isinstance(v, bool): print('true' if v else 'false')
    elif v is None: print('null')
    elif isinstance(v, (dict, list)): print(json.dumps(v))
    else: print(v)

cmd = sys.argv[1]; a = sys.argv[2:]
if cmd == 'freeport':
    s = socket.socket(); s.bind((a[0], 0)); print(s.getsockname()[1]); s.close()
elif cmd == 'jget':
    try:
        j = json.load(sys.stdin)
        out(jpath(j, a[0]))
    except Exception as e:
        sys.exit(1)
elif cmd == 'random':            # PATH BYTES [SEED]
    path, n = a[0], int(a[1]); seed = a[2] if len(a) > 2 else os.path.basename(path)
    r = random.Random(seed)
    with open(path, 'wb') as f:
        while n > 0:
            k = min(n, 1 << 20); f.write(r.randbytes(k)); n -= k
elif cmd == 'chunk':             # PATH OFFSET BYTES SEED — write random bytes in place
    r = random.Random(a[3])
    with open(a[0], 'r+b') as f:
        f.seek(int(a[1])); f.write(r.randbytes(int(a[2])))
elif cmd == 'ranges':            # SIZE N MAXLEN SEED -> "start end" lines
    size, n, maxlen = int(a[0]), int(a[1]), int(a[2]); r = random.Random(a[3])
    for _ in range(n):
        s = r.randrange(size); l = r.randint(1, maxlen)
        print(s, min(size - 1, s + l - 1))
elif cmd == 'headbody':          # URL KEY — bytes after the headers of a HEAD
    u = urllib.parse.urlsplit(a[0])
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    path = u.path + ('?' + u.query if u.query else '')
    s.sendall(('HEAD %s HTTP/1.1\r\nHost: %s\r\nX-Api-Key: %s\r\nConnection: close\r\n\r\n'
               % (path, u.netloc, a[1])).encode())
    buf = b''
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            buf += d
    except socket.timeout:
        pass
    i = buf.find(b'\r\n\r\n')
    print(len(buf) - i - 4 if i >= 0 else -1)
elif cmd == 'quote':
    print(urllib.parse.quote(a[0], safe=''))
elif cmd == 'quotehex':
    print(urllib.parse.quote(bytes.fromhex(a[0]), safe=''))
elif cmd == 'btih':              # MAGNET -> lowercase hex info hash
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(a[0]).query)
    for xt in q.get('xt', []):
        if xt.startswith('urn:btih:'):
            h = xt[9:]
            if len(h) == 32: h = base64.b32decode(h.upper()).hex()
            print(h.lower()); break
elif cmd == 'magnetpart':        # MAGNET KEY -> each value
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(a[0]).query)
    for v in q.get(a[1], []): print(v)
elif cmd == 'b32':               # HEX -> base32
    print(base64.b32encode(bytes.fromhex(a[0])).decode())
elif cmd == 'tinfo':             # TORRENT -> info hash
    b = open(a[0], 'rb').read(); t, _ = bdecode(b)
    s, e = t[b'__spans__'][b'info']; print(hashlib.sha1(b[s:e]).hexdigest())
elif cmd == 'pads':              # TORRENT DIR — create the pad files aria2 expects
    b = open(a[0], 'rb').read(); t, _ = bdecode(b); info = t[b'info']
    for f in info.get(b'files', []):
        if b'p' in f.get(b'attr', b''):
            p = os.path.join(a[1], info[b'name'].decode(), *[x.decode() for x in f[b'path']])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'wb') as fh: fh.truncate(f[b'length'])
elif cmd == 'httpd':             # DIR PORTFILE — static files + /redirect?to=URL
    import http.server
    d = a[0]
    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *x, **k): super().__init__(*x, directory=d, **k)
        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == '/redirect':
                to = urllib.parse.parse_qs(u.query)['to'][0]
                self.send_response(302); self.send_header('Location', to)
                self.send_header('Content-Length', '0'); self.end_headers(); return
            return super().do_GET()
        def log_message(self, fmt, *x): sys.stderr.write(fmt % x + '\n')
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
    with open(a[1] + '.tmp', 'w') as f: f.write(str(srv.server_address[1]))
    os.rename(a[1] + '.tmp', a[1])
    srv.serve_forever()
else:
    sys.exit('rg.py: unknown command ' + cmd)
PYEOF

py() { python3 "$T/rg.py" "$@"; }

# jget PATH [JSON] — a field of JSON (stdin if not given); dotted path with
# list indices (torrents.0.info_hash) or a python expression over j.
jget() {
  if [ $# -ge 2 ]; then printf '%s' "$2" | py jget "$1"; else py jget "$1"; fi
}

free_port() { py freeport "${1:-127.0.0.1}"; }

# port_open IP PORT
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_until SECONDS CMD... — polls CMD every 0.25 s.
wait_until() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 4; i++)); do
    "$@" && return 0
    sleep 0.25
  done
  "$@"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

file_size() { stat -c %s "$1"; }

# ------------------------------------------------------------------ media --

# make_video PATH SECONDS [WxH] [VIDEO_BITRATE] — H.264 + AAC test pattern
# (container from the extension). Noise keeps the bitrate honest so
# SECONDS x bitrate predicts the size (~1.25 MB/s at the default 10M).
make_video() {
  local path=$1 secs=$2 size=${3:-640x360} br=${4:-10M}
  ffmpeg -nostdin -v error -y \
    -f lavfi -i "testsrc=size=$size:rate=25" \
    -f lavfi -i "sine=frequency=440:sample_rate=44100" \
    -t "$secs" -vf noise=alls=60:allf=t \
    -c:v libx264 -preset veryfast -b:v "$br" -maxrate "$br" -bufsize 20M \
    -pix_fmt yuv420p -g 50 -c:a aac -b:a 128k "$path" >"$T/ffmpeg.out" 2>&1 ||
    die "ffmpeg could not make $path: $(tail -3 "$T/ffmpeg.out")"
}

# make_random PATH MIB [SEED] — deterministic pseudo-random bytes.
make_random() { py random "$1" $(($2 * 1048576)) "${3:-$(basename "$1")}" || die "make_random $1"; }
# make_random_bytes PATH BYTES [SEED]
make_random_bytes() { py random "$1" "$2" "${3:-$(basename "$1")}" || die "make_random_bytes $1"; }

# ------------------------------------------------------------------- HTTP --

# http METHOD URL [curl args] — sets STATUS, BODY; headers in $T/hdr.
http() {
  local m=$1 u=$2; shift 2
  local mflag=(-X "$m")
  # curl -I writes the headers where the body would go: keep them apart.
  [ "$m" = HEAD ] && mflag=(-I)
  [ "$m" = GET ] && mflag=()
  : >"$T/body"
  STATUS=$(curl -sS -g --noproxy '*' --max-time "$CURL_MAX" "${mflag[@]}" \
    -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$@" "$u" 2>"$T/curl.err") || true
  [ -n "$STATUS" ] || STATUS=000
  [ "$m" = HEAD ] && : >"$T/body"
  BODY=$(head -c 1048576 "$T/body" | tr -d '\0')
  echo "$STATUS" >"$T/status"
}

# api METHOD PATH [curl args] — authenticated call to the daemon; the JSON
# body goes to stdout, the status into $STATUS (and $T/status, for callers
# that used $(...): STATUS=$(cat "$T/status")).
api() {
  local m=$1 p=$2; shift 2
  http "$m" "$URL$p" -H "X-Api-Key: $API_KEY" "$@"
  printf '%s\n' "$BODY"
}

# hdr NAME — a response header of the last http/api call (last block).
hdr() {
  awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
    /^HTTP\// { v = "" }
    { line = $0; sub(/\r$/, "", line); i = index(line, ":");
      if (i > 0 && tolower(substr(line, 1, i - 1)) == n) { v = substr(line, i + 1); sub(/^[ \t]+/, "", v) } }
    END { print v }' "$T/hdr"
}

# range_eq FILE URL START END — the daemon's bytes START..END (inclusive)
# equal the source's.
range_eq() {
  local f=$1 u=$2 s=$3 e=$4 code len=$(($4 - $3 + 1))
  code=$(curl -sS -g --noproxy '*' --max-time "${RANGE_TIMEOUT:-$CURL_MAX}" \
    -H "X-Api-Key: $API_KEY" -r "$s-$e" -o "$T/range.bin" -w '%{http_code}' "$u" 2>"$T/curl.err")
  if [ "$code" != 206 ]; then
    echo "# range $s-$e: HTTP ${code:-none} $(head -c 200 "$T/curl.err")"
    return 1
  fi
  if ! dd if="$f" iflag=skip_bytes,count_bytes skip="$s" count="$len" status=none |
    cmp -s - "$T/range.bin"; then
    echo "# range $s-$e: bytes differ (got $(file_size "$T/range.bin") bytes)"
    return 1
  fi
}

# random_ranges_eq FILE URL N [MAXLEN] [SEED]
random_ranges_eq() {
  local f=$1 u=$2 n=$3 maxlen=${4:-1048576} seed=${5:-$TEST_NAME} s e bad=0
  while read -r s e; do
    range_eq "$f" "$u" "$s" "$e" || bad=$((bad + 1))
  done < <(py ranges "$(file_size "$f")" "$n" "$maxlen" "$seed")
  [ $bad = 0 ] || { echo "# $bad of $n random ranges wrong"; return 1; }
}

# whole_eq FILE URL — a full GET equals FILE.
whole_eq() {
  curl -sS -g --noproxy '*' --max-time "${RANGE_TIMEOUT:-$CURL_MAX}" -f \
    -H "X-Api-Key: $API_KEY" -o "$T/whole.bin" "$2" 2>"$T/curl.err" ||
    { echo "# GET $2: $(head -c 200 "$T/curl.err")"; return 1; }
  cmp "$1" "$T/whole.bin" || return 1
  rm -f "$T/whole.bin"
}

# ----------------------------------------------------------------- daemon --

# start_daemon NAME [KEY=VALUE...] — config overrides become REELGATE_KEY
# env; "!KEY" unsets a default (e.g. !api_key). Sets URL, DATA, DPID, RG_PORT.
start_daemon() {
  DNAME=$1; shift
  DATA=$T/$DNAME
  mkdir -p "$DATA"
  RG_PORT=$(free_port 127.0.0.1)
  URL=http://127.0.0.1:$RG_PORT
  DAEMON_ENV=("$@")
  launch_daemon
}

launch_daemon() {
  local kv k envs=(
    "REELGATE_DATA_DIR=$DATA" REELGATE_BIND=127.0.0.1 "REELGATE_HTTP_PORT=$RG_PORT"
    "REELGATE_API_KEY=$API_KEY" REELGATE_BT_BIND=127.0.0.1 REELGATE_DHT=false
    "REELGATE_LOG_LEVEL=${RG_TEST_LOG_LEVEL:-info}")
  local unset=()
  for kv in ${DAEMON_ENV[@]+"${DAEMON_ENV[@]}"}; do
    if [ "${kv#!}" != "$kv" ]; then
      k=REELGATE_$(echo "${kv#!}" | tr 'a-z' 'A-Z')
      unset+=(-u "$k")
      local i; for i in "${!envs[@]}"; do
        [ "${envs[$i]%%=*}" = "$k" ] && unset 'envs[i]'
      done
    else
      envs+=("REELGATE_$(echo "${kv%%=*}" | tr 'a-z' 'A-Z')=${kv#*=}")
    fi
  done
  env ${unset[@]+"${unset[@]}"} "${envs[@]}" "$RG_BIN" >>"$DATA/daemon.out" 2>&1 &
  DPID=$!
  track "$DPID" daemon
  local i code
  for ((i = 0; i < 80 * SLOW; i++)); do
    alive "$DPID" || { wait "$DPID" 2>/dev/null; die "daemon exited during start (status $?)"; }
    code=$(curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' \
      -H "X-Api-Key: $API_KEY" "$URL/api/status" 2>/dev/null)
    # 401: the daemon answers, just not to our key (a generated-key test).
    case $code in 200 | 401) return 0 ;; esac
    sleep 0.25
  done
  die "daemon did not answer GET /api/status within $((20 * SLOW)) s (last status ${code:-none})"
}

# stop_daemon — SIGTERM; fails the test if the daemon needs more than 10 s.
stop_daemon() {
  [ -n "$DPID" ] || return 0
  if ! alive "$DPID"; then
    wait "$DPID" 2>/dev/null
    fail "daemon kept running until stopped (it died on its own, exit status $?)"
    untrack "$DPID"
    DPID=''
    return 1
  fi
  if stop_pid "$DPID" $((10 * SLOW)); then
    pass "daemon exits within $((10 * SLOW)) s of SIGTERM"
  else
    fail "daemon exits within 10 s of SIGTERM (killed)"
  fi
  DPID=''
}

# restart_daemon — same port, data dir and overrides.
restart_daemon() {
  stop_daemon
  launch_daemon
}

daemon_log_has() { grep -q -- "$1" "$DATA/reelgate.log" 2>/dev/null; }

# add_link LINK [TITLE] — POST /api/torrents {"link": LINK}; sets HASH from
# the answer.
add_link() {
  local body
  body=$(python3 -c 'import json,sys; d={"link":sys.argv[1]}
if len(sys.argv)>2: d["title"]=sys.argv[2]
print(json.dumps(d))' "$@")
  api POST /api/torrents -H 'Content-Type: application/json' --data-binary "$body" >/dev/null
  HASH=$(jget info_hash "$BODY" 2>/dev/null)
}

# torrent HASH — GET /api/torrents/HASH into BODY.
torrent() { api GET "/api/torrents/$1" >/dev/null; }

# tfield HASH PATH — one field of the torrent object.
tfield() { torrent "$1"; jget "$2" "$BODY" 2>/dev/null; }

has_metadata() { [ "$(tfield "$1" has_metadata)" = true ]; }

# wait_metadata HASH [SECONDS]
wait_metadata() { wait_until "${2:-30}" has_metadata "$1"; }

# stream_url HASH INDEX — the file's stream_url as the daemon gives it.
stream_url() { tfield "$1" "files.$2.stream_url"; }

status_field() { api GET /api/status >/dev/null; jget "$1" "$BODY" 2>/dev/null; }

# ---------------------------------------------------------------- swarm ----

# seed_ours NAME IP PATH [seed args] — `reelgate seed`; sets MAGNET, HASH,
# SEED_PORT, PEER (IP:PORT). A --port in the args is honoured; otherwise a
# free one is picked (so the seeder can come back on the same port).
SEED_WAIT=${SEED_WAIT:-60}
seed_ours() {
  local name=$1 ip=$2 path=$3 a haveport=''; shift 3
  for a in "$@"; do [ "$a" = --port ] && haveport=1; done
  local portargs=()
  if [ -z "$haveport" ]; then
    SEED_PORT=$(free_port "$ip")
    portargs=(--port "$SEED_PORT")
  fi
  spawn "$name" "$RG_BIN" seed --bind "$ip" ${portargs[@]+"${portargs[@]}"} "$@" "$path"
  local pid=$LAST_PID i
  MAGNET=''
  for ((i = 0; i < SEED_WAIT * 4; i++)); do
    MAGNET=$(grep -m1 '^magnet:' "$T/$name.out" 2>/dev/null)
    [ -n "$MAGNET" ] && break
    alive "$pid" || { wait "$pid" 2>/dev/null; die "seeder $name exited: $(tail -3 "$T/$name.out")"; }
    sleep 0.25
  done
  [ -n "$MAGNET" ] || die "seeder $name printed no magnet within $SEED_WAIT s"
  HASH=$(py btih "$MAGNET")
  PEER=$(py magnetpart "$MAGNET" x.pe | head -1)
  [ -n "$PEER" ] || PEER=$ip:${SEED_PORT:-}
  SEED_PORT=${PEER##*:}
  note "seeder $name pid $pid: $MAGNET"
}

# seed_aria2 IP TORRENT DIR [NAME] — aria2c seeding the data in DIR (which
# holds the torrent's file or folder); prints and sets PEER=IP:PORT.
seed_aria2() {
  local ip=$1 tor=$2 dir=$3 name=${4:-aria2-$1} port
  port=$(free_port "$ip")
  py pads "$tor" "$dir" || die "cannot read $tor"
  spawn "$name" aria2c --interface="$ip" --listen-port="$port" --dir="$dir" \
    --seed-ratio=0.0 --check-integrity=true --bt-seed-unverified=true \
    --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
    --enable-peer-exchange=false --disable-ipv6=true --file-allocation=none \
    --summary-interval=0 --console-log-level=notice --bt-stop-timeout=0 \
    --stop-with-process=$$ --auto-save-interval=0 --bt-save-metadata=false \
    --allow-overwrite=false --bt-tracker-interval=5 "$tor"
  local pid=$LAST_PID
  wait_until 30 port_open "$ip" "$port" || die "aria2c did not listen on $ip:$port: $(tail -3 "$T/$name.out")"
  alive "$pid" || die "aria2c exited: $(tail -3 "$T/$name.out")"
  PEER=$ip:$port
  echo "PEER=$PEER"
}

# start_tracker — opentracker on 127.0.0.1 (Debian's build only accepts
# whitelisted info hashes: see tracker_allow). Sets TRACKER (announce URL).
start_tracker() {
  local dir=$T/tracker port
  mkdir -p "$dir"; chmod 755 "$dir"
  : >"$dir/whitelist"; chmod 644 "$dir/whitelist"
  port=$(free_port 127.0.0.1)
  local user=()
  [ "$(id -u)" = 0 ] && user=(-u nobody)
  # The whitelist path is relative to the chroot (-d).
  spawn tracker opentracker -i 127.0.0.1 -p "$port" ${user[@]+"${user[@]}"} -d "$dir" -w whitelist
  TRACKER_PID=$LAST_PID
  TRACKER=http://127.0.0.1:$port/announce
  wait_until 10 port_open 127.0.0.1 "$port" || die "opentracker did not listen: $(tail -3 "$T/tracker.out")"
}

tracker_accepts() {
  local q
  q=$(py quotehex "$1")
  ! curl -s --noproxy '*' --max-time 3 \
    "$TRACKER?info_hash=$q&peer_id=-RGTEST-000000000000&port=1&uploaded=0&downloaded=0&left=1&compact=1&event=stopped" |
    grep -q 'failure reason'
}

# tracker_allow HEX — whitelists an info hash (reloaded on SIGHUP).
tracker_allow() {
  echo "$1" >>"$T/tracker/whitelist"
  kill -HUP "$TRACKER_PID"
  wait_until 5 tracker_accepts "$1" || die "opentracker does not accept $1 after SIGHUP"
}

# make_torrent OUT PATH [mktorrent args] — `reelgate mktorrent`; sets THASH.
make_torrent() {
  local out=$1 path=$2; shift 2
  THASH=$("$RG_BIN" mktorrent "$@" -o "$out" "$path" 2>"$T/mktorrent.err" | tail -1 | tr -d '[:space:]' | tr 'A-F' 'a-f')
  [ -s "$out" ] || die "reelgate mktorrent failed: $(tail -3 "$T/mktorrent.err")"
  local h
  h=$(py tinfo "$out")
  [ "$THASH" = "$h" ] || { note "mktorrent printed '$THASH', torrent hashes to $h"; THASH=$h; }
}

# start_httpd DIR — static files + /redirect?to=URL; sets HTTPD_URL.
start_httpd() {
  rm -f "$T/httpd.port"
  spawn httpd python3 "$T/rg.py" httpd "$1" "$T/httpd.port"
  wait_until 10 test -s "$T/httpd.port" || die "python http server did not start"
  HTTPD_URL=http://127.0.0.1:$(cat "$T/httpd.port")
}

# ------------------------------------------------------------------ setup --

[ -x "$RG_BIN" ] || { echo "ERROR: $RG_BIN is not built"; exit 99; }
need curl "$PYTHON"
echo "# $TEST_NAME: temp dir $T, binary $RG_BIN"
