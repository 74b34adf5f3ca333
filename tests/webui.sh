#!/bin/sh
# webui.sh — the web UI (issue 7) in headless Chromium against a running
# daemon and a loopback swarm: the static files (no key, ETag, types), then
# tests/webui/drive.js signs in with the keyboard, adds a torrent through
# the form, sees it listed, plays it in the player page (HLS through the
# embedded hls.js) until playback advances, and changes a live setting that
# GET /api/settings then shows. Any console error fails. Then, over curl:
# settings validation, the API key regeneration and POST /api/restart (the
# saved setting survives it). Screenshots at 375 and 1440 px are kept in
# $RG_ARTIFACT_DIR (default: tests/ in the build dir) and their paths printed.
#
# playwright-core is installed with npm at test time into a cache outside
# git ($RG_NPM_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/reelgate-npm).
# Exit 77 when chromium, node/npm or the npm registry are unavailable.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg
need_chromium
PW_VERSION=1.65.1
NPM_CACHE=${RG_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reelgate-npm}
if [ "$(node -p "require('$NPM_CACHE/node_modules/playwright-core/package.json').version" 2>/dev/null)" != "$PW_VERSION" ]; then
  command -v npm >/dev/null 2>&1 || skip_all "npm is not installed (apt-get install npm)"
  mkdir -p "$NPM_CACHE" || skip_all "cannot create $NPM_CACHE"
  note "npm install playwright-core@$PW_VERSION into $NPM_CACHE"
  timeout 120 npm install --prefix "$NPM_CACHE" --no-audit --no-fund --no-save \
    --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 \
    "playwright-core@$PW_VERSION" >"$T/npm.out" 2>&1 ||
    skip_all "npm could not install playwright-core (no registry?): $(tail -2 "$T/npm.out" | tr '\n' ' ')"
fi
note "playwright-core $PW_VERSION, $("$CHROMIUM" --version 2>/dev/null | head -1)"
ART_DIR=${RG_ARTIFACT_DIR:-$RG_BUILDDIR/tests}
mkdir -p "$ART_DIR"
rm -f "$ART_DIR"/webui-*.png

# A 30 s H.264/AAC MKV, small enough for HLS to start at once.
mkdir -p "$T/src"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x180:rate=25" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 30 \
  -c:v libx264 -preset veryfast -b:v 400k -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k \
  "$T/src/webui-movie.mkv" >"$T/ffmpeg.out" 2>&1 || die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"
seed_ours seed 127.0.0.2 "$T/src/webui-movie.mkv"
start_daemon ui

# ---- the static files: no key, types, ETag ----
http GET "$URL/"
check_status "GET / without a key → 200" 200
check "GET / is the web UI (text/html)" sh -c 'grep -q "<title>reelgate</title>" "$1" && case "$2" in text/html*) true;; *) false;; esac' _ "$T/body" "$(hdr Content-Type)"
ETAG=$(hdr ETag)
check "index.html has a strong ETag and no-cache" sh -c 'case "$1" in \"*\") [ "$2" = no-cache ];; *) false;; esac' _ "$ETAG" "$(hdr Cache-Control)"
http GET "$URL/" -H "If-None-Match: $ETAG"
check_status "If-None-Match with the ETag → 304" 304
http GET "$URL/ui/app.js"
check_status "GET /ui/app.js → 200" 200
check_eq "app.js is JavaScript" "text/javascript; charset=utf-8" "$(hdr Content-Type)"
http GET "$URL/style.css"
check_eq "style.css is CSS" "text/css; charset=utf-8" "$(hdr Content-Type)"
http POST "$URL/app.js"
check_status "POST to a static file → 405" 405
http GET "$URL/hls.min.js"
if [ "$STATUS" = 200 ]; then pass "hls.js is embedded (from npm at build time)"
else note "hls.js is not in this build (npm was unavailable at build time): the player uses native HLS or the direct stream"; fi
http GET "$URL/nope.js"
check_status "an unknown path → 404" 404

# ---- the browser ----
NODE_PATH="$NPM_CACHE/node_modules" timeout 120 node "$RG_SRCDIR/tests/webui/drive.js" \
  "$URL" "$API_KEY" "$MAGNET" "Webui Test Movie" "$ART_DIR" >"$T/drive.out" 2>&1
rc=$?
sed 's/^/# /' "$T/drive.out" | tail -40
[ $rc = 77 ] && skip_all "$(grep -m1 '^SKIP' "$T/drive.out")"
while read -r line; do
  case $line in
  'ok - '*) pass "browser: ${line#ok - }" ;;
  'not ok - '*) fail "browser: ${line#not ok - }" ;;
  esac
done <"$T/drive.out"
check "the browser driver finished (exit $rc)" test "$rc" = 0
check "no console errors in the page" sh -c '! grep -q "^console error" "$1"' _ "$T/drive.out"
for s in dashboard-1440 player-1440 settings-1440 dashboard-375 torrents-375 settings-375; do
  check "screenshot webui-$s.png kept" test -s "$ART_DIR/webui-$s.png"
done
note "screenshots: $(ls "$ART_DIR"/webui-*.png 2>/dev/null | tr '\n' ' ')"

# ---- what the browser changed, through the API ----
api GET /api/torrents >/dev/null
check_eq "the torrent added in the form has its title" "Webui Test Movie" "$(jget torrents.0.title "$BODY")"
api GET /api/settings >/dev/null
check_eq "GET /api/settings shows download_limit_kbps = 4321" 4321 \
  "$(jget '[s["value"] for s in j["settings"] if s["key"] == "download_limit_kbps"][0]' "$BODY")"
check_eq "secrets are masked" '********' "$(jget '[s["value"] for s in j["settings"] if s["key"] == "api_key"][0]' "$BODY")"
api PUT /api/settings --data-binary '{"read_timeout_s": 0}' >/dev/null
check_status "an out-of-range value → 400" 400
api PUT /api/settings --data-binary '{"http_port": 9999}' >/dev/null
check_status "a key the environment sets → 400, naming the variable" 400
check "…the error names REELGATE_HTTP_PORT" sh -c 'printf "%s" "$1" | grep -q REELGATE_HTTP_PORT' _ "$BODY"
api PUT /api/settings --data-binary '{"read_timeout_s": 40}' >/dev/null
check_eq "a setting that needs a restart says so" true "$(jget restart_needed "$BODY")"
http GET "$URL/api/settings" -X PUT
check_status "GET-less: nothing changes state through GET (PUT without a key → 401)" 401

api GET /api/speed >/dev/null
check "GET /api/speed has the last minutes' rates (2 s samples)" \
  test "$(jget 'len(j["samples"]) >= 2 and j["interval_s"] == 2 and any(s[1] > 0 for s in j["samples"])' "$BODY")" = true
api GET /api/system >/dev/null
check "GET /api/system: CPU, memory, disk, mount" \
  test "$(jget '"rss" in j["process"] and j["disk"]["data"]["total"] > 0 and j["mount"]["mounted"] is False' "$BODY")" = true

# ---- API key regeneration ----
api POST /api/key/regenerate >/dev/null
NEWKEY=$(jget api_key "$BODY")
check "a new key comes back" test -n "$NEWKEY" -a "$NEWKEY" != "$API_KEY"
check_eq "…not persistent: the environment sets api_key" false "$(jget persistent "$BODY")"
http GET "$URL/api/status" -H "X-Api-Key: $API_KEY"
check_status "the old key stops working" 401
http GET "$URL/api/status" -H "X-Api-Key: $NEWKEY"
check_status "the new key works" 200

# ---- restart: re-exec, saved settings applied at start ----
UP_PID=$DPID
http POST "$URL/api/restart" -H "X-Api-Key: $NEWKEY"
check_status "POST /api/restart → 202" 202
sleep 1
restarted() { [ "$(status_field uptime_s)" != "" ] && daemon_log_has "setting(s) saved in the web UI applied"; }
check "the daemon comes back (same pid, re-exec'd) with the key from the environment" wait_until 20 restarted
check_eq "…same process id" "$UP_PID" "$DPID"
api GET /api/settings >/dev/null
check_eq "download_limit_kbps is still 4321 after the restart" 4321 \
  "$(jget '[s["value"] for s in j["settings"] if s["key"] == "download_limit_kbps"][0]' "$BODY")"
check_eq "read_timeout_s 40 is in use after the restart" 40 \
  "$(jget '[s["value"] for s in j["settings"] if s["key"] == "read_timeout_s"][0]' "$BODY")"

stop_daemon
finish
