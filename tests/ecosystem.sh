#!/bin/sh
# ecosystem.sh — blocklists, Prometheus metrics, port mapping state, SIGHUP.
#  * A gzip blocklist (P2P + CIDR + DAT lines and a malformed one) blocks a
#    real seeder on 127.0.0.3 and a trap listener on 127.0.0.5 that counts
#    every connection it gets (must stay 0); a seeder on 127.0.0.4 serves.
#    A reload through POST /api/blocklist applies a changed list live.
#  * GET /metrics needs the key and passes `promtool check metrics`.
#  * VPN-gateway mode against a NAT-PMP responder on loopback: the mapping
#    is reported and the listen port moves to the mapped port; it renews.
#  * SIGHUP reopens the log file after it was moved away.
. "$(dirname "$0")/lib/common.sh"
need gzip

mkdir -p "$T/src"
make_random_bytes "$T/src/film.mkv" 3145739
seed_ours seedA 127.0.0.3 "$T/src/film.mkv"
MAG_A=$MAGNET PEER_A=$PEER
seed_ours seedB 127.0.0.4 "$T/src/film.mkv"
PEER_B=$PEER FHASH=$HASH

# the trap: a listener on a blocked address that counts connections
TRAP_PORT=$(free_port 127.0.0.5)
cat >"$T/trap.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.5', int(sys.argv[1]))); s.listen(16)
open(sys.argv[2], 'w').write('0')
n = 0
while True:
    c, a = s.accept(); n += 1
    open(sys.argv[2], 'w').write(str(n)); c.close()
PY
spawn trap python3 "$T/trap.py" "$TRAP_PORT" "$T/trap.count"
wait_until 10 test -s "$T/trap.count" || die "trap listener did not start"

write_list() { # extra lines…
  { echo "# test list"
    echo "Seeder A:127.0.0.3-127.0.0.3"
    echo "127.0.0.5/32"
    echo "198.051.100.000 - 198.051.100.255 , 000 , dat line"
    echo "this line is malformed"
    for l in "$@"; do echo "$l"; done; } | gzip -c >"$T/list.p2p.gz.tmp"
  mv "$T/list.p2p.gz.tmp" "$T/list.p2p.gz"
}
write_list
start_daemon eco "blocklist=$T/list.p2p.gz" metadata_timeout_s=30

api GET /api/blocklist >/dev/null
check_status "GET /api/blocklist → 200" 200
check_eq "blocklist: three ranges" 3 "$(jget entries "$BODY")"
check_eq "blocklist: one malformed line counted" 1 "$(jget rejected_lines "$BODY")"
check_eq "blocklist: gzip detected" true "$(jget sources.0.gzip "$BODY")"
check "blocklist: last load time" test "$(jget last_load "$BODY")" -gt 0
check_eq "blocklist: refresh every 24 h by default" 24 "$(jget refresh_hours "$BODY")"
check "blocklist: the first malformed line is shown" sh -c 'printf "%s" "$1" | grep -q "line 5: this line is malformed"' _ "$BODY"
check "the load is logged before any torrent" daemon_log_has "3 ranges blocked"

# blocked peers only: nothing arrives, nobody is connected
add_link "$MAG_A&x.pe=127.0.0.5%3A$TRAP_PORT"
check_eq "magnet with blocked peers added" "$FHASH" "$HASH"
sleep 4
check_eq "no metadata from blocked peers" false "$(tfield "$FHASH" has_metadata)"
check_eq "the trap on a blocked address was never connected" 0 "$(cat "$T/trap.count")"
api GET /api/blocklist >/dev/null
check "connections to blocked peers were refused" test "$(jget blocked_connections "$BODY")" -ge 2

# add the allowed seeder: it serves
api DELETE "/api/torrents/$FHASH" >/dev/null
add_link "$MAG_A&x.pe=127.0.0.5%3A$TRAP_PORT&x.pe=$(py quote "$PEER_B")"
check "metadata from the allowed seeder" wait_metadata "$FHASH" 20
SURL=$(stream_url "$FHASH" 0)
check "the allowed seeder serves the whole file" whole_eq "$T/src/film.mkv" "$SURL"
check_eq "still no connection to the trap" 0 "$(cat "$T/trap.count")"

# live reload: block 127.0.0.4 too
write_list "127.0.0.4"
api POST /api/blocklist >/dev/null
check_status "POST /api/blocklist starts a reload → 202" 202
reloaded() { api GET /api/blocklist >/dev/null; [ "$(jget entries "$BODY")" = 4 ] && [ "$(jget loads "$BODY")" = 2 ]; }
check "the reloaded list is applied live (4 ranges)" wait_until 10 reloaded

# ---- metrics
http GET "$URL/metrics"
check_status "/metrics without the key → 401" 401
http GET "$URL/metrics" -H "X-Api-Key: $API_KEY"
check_status "/metrics → 200" 200
check_eq "/metrics Content-Type" "text/plain; version=0.0.4; charset=utf-8" "$(hdr Content-Type)"
cp "$T/body" "$T/metrics.txt"
mhas() { grep -q -- "$1" "$T/metrics.txt"; }
check "metrics: HTTP requests by status" mhas '^reelgate_http_requests_total{method="GET",code="200"} '
check "metrics: 401s counted" mhas 'code="401"'
check "metrics: stream bytes" mhas '^reelgate_http_bytes_total{route="stream"} 3145739$'
check "metrics: read bytes by source" mhas '^reelgate_read_bytes_total{source='
check "metrics: read latency histogram" mhas '^reelgate_read_latency_seconds_bucket{source="[a-z]*",le="+Inf"}'
check "metrics: per-torrent peers" mhas "^reelgate_torrent_peers{hash=\"$FHASH\"}"
check "metrics: per-torrent rate" mhas "^reelgate_torrent_download_rate_bytes{hash=\"$FHASH\"}"
check "metrics: readers" mhas '^reelgate_readers '
check "metrics: blocked connections" mhas '^reelgate_blocklist_blocked_connections_total '
check "metrics: blocklist loads" mhas '^reelgate_blocklist_loads_total{result="ok"} 2$'
if command -v promtool >/dev/null 2>&1; then
  promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1
  check "promtool check metrics accepts the output" test $? = 0
  [ -s "$T/promtool.out" ] && sed 's/^/# promtool: /' "$T/promtool.out" | head -20
else
  note "promtool is not installed (Debian package prometheus): parser check skipped"
fi

# ---- port mapping: off by default
api GET /api/portmap >/dev/null
check_status "GET /api/portmap → 200" 200
check_eq "natpmp off by default" false "$(jget natpmp "$BODY")"
check_eq "upnp off by default" false "$(jget upnp "$BODY")"
check_eq "no gateway mode by default" null "$(jget gateway "$BODY")"

# ---- SIGHUP reopens the log
mv "$DATA/reelgate.log" "$DATA/reelgate.log.1"
kill -HUP "$DPID"
check "SIGHUP: a new log file is opened" wait_until 5 daemon_log_has "log file reopened"
check "SIGHUP: the daemon keeps serving" sh -c 'curl -sf --noproxy "*" -H "X-Api-Key: $2" "$1/api/status" >/dev/null' _ "$URL" "$API_KEY"
stop_daemon

# ---- VPN-gateway mode against a NAT-PMP responder on loopback
NATPMP_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EXT_PORT=$(free_port 127.0.0.1)
cat >"$T/natpmp.py" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', int(sys.argv[1]))); ext = int(sys.argv[2]); n = 0
while True:
    d, a = s.recvfrom(64)
    if len(d) >= 2 and d[0] == 0 and d[1] == 0:
        s.sendto(struct.pack('!BBHI4s', 0, 128, 0, int(time.time()), socket.inet_aton('203.0.113.9')), a)
    elif len(d) >= 12 and d[0] == 0 and d[1] in (1, 2):
        op, _, internal, sug, life = struct.unpack('!BHHHI', d[1:12])
        n += 1; open(sys.argv[3], 'w').write(str(n))
        s.sendto(struct.pack('!BBHIHHI', 0, 128 + op, 0, int(time.time()), internal, ext, life), a)
PY
echo 0 >"$T/natpmp.count"
spawn natpmp python3 "$T/natpmp.py" "$NATPMP_PORT" "$EXT_PORT" "$T/natpmp.count"
start_daemon gw natpmp=true upnp=true "portmap_gateway=127.0.0.1:$NATPMP_PORT" portmap_lifetime_s=4
mapped() { api GET /api/portmap >/dev/null; [ "$(jget gateway.mapped "$BODY")" = true ]; }
check "gateway mapping reported" wait_until 10 mapped
check_eq "switches reported: natpmp" true "$(jget natpmp "$BODY")"
check_eq "switches reported: upnp" true "$(jget upnp "$BODY")"
check_eq "gateway: external port" "$EXT_PORT" "$(jget gateway.external_port "$BODY")"
check_eq "gateway: external address" 203.0.113.9 "$(jget gateway.external_ip "$BODY")"
check_eq "gateway: lifetime granted" 4 "$(jget gateway.granted_lifetime_s "$BODY")"
moved() { [ "$(status_field bt_port)" = "$EXT_PORT" ]; }
check "BitTorrent listens on the mapped port (announces carry it)" wait_until 10 moved
renewed() { [ "$(cat "$T/natpmp.count")" -ge 6 ]; }
check "the mapping is renewed before its lifetime ends" wait_until 10 renewed
stop_daemon
finish
