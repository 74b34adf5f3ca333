#!/bin/sh
# cli.sh — the command line and the configuration layers: --help and
# --version, every kind of bad configuration refused before serving (with the
# key/line named and no process left behind), the precedence
# defaults < file < environment < flags, and the API key (generated once,
# printed once, replaced by a configured one).
. "$(dirname "$0")/lib/common.sh"

# ---- --help / --version
out=$(timeout 10 "$RG_BIN" --help 2>&1); rc=$?
check_eq "--help exits 0" 0 "$rc"
missing=''
for k in data_dir bind http_port api_key cache_dir cache_budget_mb read_timeout_s \
  idle_timeout_s metadata_timeout_s readahead_mb bt_port bt_bind bt_outgoing_utp \
  dht download_limit_kbps upload_limit_kbps connections_limit max_active_torrents \
  log_level log_file mount REELGATE_HTTP_PORT; do
  printf '%s' "$out" | grep -q -- "$k" || missing="$missing $k"
done
check_eq "--help lists every config key" "" "$missing"
missing=''
for f in --config --data-dir --port --bind --mount --log-level --set --help --version; do
  printf '%s' "$out" | grep -q -- "$f" || missing="$missing $f"
done
check_eq "--help lists every flag" "" "$missing"
missing=''
for d in 8090 reelgate-data 300 60; do
  printf '%s' "$out" | grep -q -- "$d" || missing="$missing $d"
done
check_eq "--help shows defaults (8090, ./reelgate-data, 300, 60)" "" "$missing"

out=$(timeout 10 "$RG_BIN" --version 2>&1); rc=$?
check_eq "--version exits 0" 0 "$rc"
check "--version prints a version number ($out)" \
  sh -c 'printf "%s" "$1" | grep -Eq "[0-9]+\.[0-9]+"' _ "$out"

# ---- bad configuration: refused before serving, cause named, nothing left
BADPORT=$(free_port 127.0.0.1)
# bad_case "description" PATTERN [env VAR=VALUE...] -- reelgate args
bad_case() {
  local desc=$1 pat=$2; shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local t0 t1 rc
  t0=$(now_ms)
  env "REELGATE_DATA_DIR=$T/bad" REELGATE_BIND=127.0.0.1 "REELGATE_HTTP_PORT=$BADPORT" \
    "REELGATE_API_KEY=$API_KEY" REELGATE_BT_BIND=127.0.0.1 REELGATE_DHT=false \
    ${envs[@]+"${envs[@]}"} timeout 5 "$RG_BIN" "$@" >"$T/bad.stdout" 2>"$T/bad.stderr"
  rc=$?
  t1=$(now_ms)
  if [ $rc = 124 ]; then
    fail "$desc: refused (it kept running until killed by timeout)"
  else
    check_eq "$desc: exit status 1" 1 "$rc"
  fi
  if grep -Eq -- "$pat" "$T/bad.stderr"; then
    pass "$desc: stderr names /$pat/"
  else
    fail "$desc: stderr names /$pat/ (stderr: $(head -c 300 "$T/bad.stderr"))"
  fi
  check "$desc: nothing listens afterwards" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$BADPORT) 2>/dev/null"
  note "$desc: took $((t1 - t0)) ms: $(head -c 200 "$T/bad.stderr")"
}

cat >"$T/unknown.json" <<'EOF'
{
  "http_port": 8091,
  "bogus_knob": 3
}
EOF
bad_case "unknown key in the file" bogus_knob -- --config "$T/unknown.json"

cat >"$T/type.json" <<'EOF'
{
  "read_timeout_s": "soon"
}
EOF
bad_case "wrong type in the file" read_timeout_s -- --config "$T/type.json"

printf '{\n  "http_port": 8091,\n  "log_level": "info"\n  "dht": false\n}\n' >"$T/broken.json"
bad_case "broken JSON names line 4" '(:4(:|[^0-9])|line 4)' -- --config "$T/broken.json"

bad_case "bad env value" 'REELGATE_HTTP_PORT|http_port' REELGATE_HTTP_PORT=eighty -- 
bad_case "bad boolean in env" 'REELGATE_DHT|dht' REELGATE_DHT=maybe -- 
bad_case "unknown flag" frobnicate -- --frobnicate
bad_case "--set with an unknown key" bogus_knob -- --set bogus_knob=1
bad_case "--set with a wrong type" readahead_mb -- --set readahead_mb=lots
bad_case "missing config file" 'nonexistent' -- --config "$T/nonexistent.json"

# ---- precedence: file < env < flags (observed through the HTTP port)
P_FILE=$(free_port 127.0.0.1)
P_ENV=$(free_port 127.0.0.1)
P_FLAG=$(free_port 127.0.0.1)
cat >"$T/layers.json" <<EOF
{
  "http_port": $P_FILE,
  "bind": "127.0.0.1",
  "api_key": "$API_KEY",
  "bt_bind": "127.0.0.1",
  "dht": false
}
EOF

answers() { # PORT
  local code
  code=$(curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' \
    -H "X-Api-Key: $API_KEY" "http://127.0.0.1:$1/api/status")
  [ "$code" = 200 ]
}

# layered NAME PORT_EXPECTED [env...] -- args
layered() {
  local name=$1 want=$2; shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  mkdir -p "$T/$name"
  spawn "$name" env -u REELGATE_HTTP_PORT -u REELGATE_API_KEY "REELGATE_DATA_DIR=$T/$name" \
    ${envs[@]+"${envs[@]}"} "$RG_BIN" --config "$T/layers.json" "$@"
  local pid=$LAST_PID
  if wait_until 20 answers "$want"; then
    pass "$name: daemon listens on the expected port"
  else
    fail "$name: daemon listens on the expected port $want"
  fi
  check "$name: the other ports stay closed" sh -c "
    for p in $P_FILE $P_ENV $P_FLAG; do
      [ \$p = $want ] && continue
      (exec 3<>/dev/tcp/127.0.0.1/\$p) 2>/dev/null && exit 1
    done; exit 0"
  if stop_pid "$pid" 10; then pass "$name: exits on SIGTERM"; else fail "$name: exits on SIGTERM within 10 s"; fi
}
layered file-only "$P_FILE" --
layered env-over-file "$P_ENV" "REELGATE_HTTP_PORT=$P_ENV" --
layered flag-over-env "$P_FLAG" "REELGATE_HTTP_PORT=$P_ENV" -- --port "$P_FLAG"
layered set-over-env "$P_FLAG" "REELGATE_HTTP_PORT=$P_ENV" -- --set "http_port=$P_FLAG"

# ---- the API key: generated on first start into DATA/api_key (0600), never
# logged, kept; a configured key replaces it.
start_daemon genkey '!api_key'
# new_output FILE OFFSET — what FILE gained past OFFSET (all of it if the
# file was truncated and rewritten in between).
new_output() {
  local size
  size=$(stat -c %s "$1" 2>/dev/null || echo 0)
  if [ "$size" -ge "$2" ]; then tail -c +$(($2 + 1)) "$1"; else cat "$1"; fi
}
wait_until 5 test -s "$DATA/api_key"
GEN=$(cat "$DATA/api_key" 2>/dev/null)
check "the first start without api_key writes it to DATA/api_key" test -n "$GEN"
check_eq "… readable by its owner only" 600 "$(stat -c %a "$DATA/api_key")"
check "the log says where the key is" daemon_log_has "API key generated: it is in $DATA/api_key"
check "and does not hold the key" sh -c '! grep -qF -- "$1" "$2" "$3"' _ "$GEN" "$DATA/reelgate.log" "$DATA/daemon.out"
http GET "$URL/api/status" -H "X-Api-Key: $GEN"
check_status "the generated key is accepted" 200
http GET "$URL/api/status" -H "X-Api-Key: $API_KEY"
check_status "another key is refused" 401
log_off=$(stat -c %s "$DATA/reelgate.log")
out_off=$(stat -c %s "$DATA/daemon.out")
restart_daemon
sleep 1
again=$({ new_output "$DATA/reelgate.log" "$log_off"; new_output "$DATA/daemon.out" "$out_off"; } | grep -c 'API key')
check_eq "no 'API key' line is printed on the second start" 0 "$again"
http GET "$URL/api/status?api_key=$GEN"
check_status "the generated key survives a restart" 200
http POST "$URL/api/key/regenerate" -H "X-Api-Key: $GEN"
NEWK=$(jget api_key "$BODY" 2>/dev/null)
check_eq "a regenerated key replaces the one in DATA/api_key" "$NEWK" "$(cat "$DATA/api_key")"
stop_daemon
DAEMON_ENV=("api_key=configured-key-1234")
launch_daemon
http GET "$URL/api/status" -H "X-Api-Key: configured-key-1234"
check_status "a configured api_key is accepted" 200
http GET "$URL/api/status" -H "X-Api-Key: $GEN"
check_status "a configured api_key replaces the generated one" 401
stop_daemon

finish
