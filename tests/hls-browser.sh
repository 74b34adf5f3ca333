#!/bin/sh
# hls-browser.sh — hls.js (from npm) in headless Chromium plays reelgate's
# HLS: a 40 s H.264 MKV with two audio tracks (AAC and AC3, so the master
# playlist has audio renditions and the default must play) and an SRT
# track, served from a loopback swarm. The page (tests/hls/player.html,
# served by python's http.server) plays muted: currentTime passes 2 s, then
# a seek to 60 % plays on. A screenshot is kept next to the test's log
# (hls-browser.png) and its path printed.
#
# hls.js and playwright-core are installed with npm into a cache outside
# git ($RG_NPM_CACHE, default tests/.cache/npm in the build dir). Exit 77
# when chromium, node/npm or the npm registry are unavailable.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || skip_all "chromium is not installed (apt-get install chromium)"
command -v node >/dev/null 2>&1 || skip_all "node is not installed (apt-get install npm)"
export CHROMIUM

NPM_CACHE=${RG_NPM_CACHE:-$RG_BUILDDIR/tests/.cache/npm}
if [ ! -f "$NPM_CACHE/node_modules/hls.js/dist/hls.min.js" ] ||
  [ ! -d "$NPM_CACHE/node_modules/playwright-core" ]; then
  command -v npm >/dev/null 2>&1 || skip_all "npm is not installed (apt-get install npm)"
  mkdir -p "$NPM_CACHE" || skip_all "cannot create $NPM_CACHE"
  note "npm install hls.js playwright-core into $NPM_CACHE"
  timeout 120 npm install --prefix "$NPM_CACHE" --no-audit --no-fund --no-save \
    --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 \
    hls.js@1 playwright-core@1 >"$T/npm.out" 2>&1 ||
    skip_all "npm could not install hls.js/playwright-core (no registry?): $(tail -2 "$T/npm.out" | tr '\n' ' ')"
fi
note "hls.js $(node -p "require('$NPM_CACHE/node_modules/hls.js/package.json').version" 2>/dev/null), playwright-core $(node -p "require('$NPM_CACHE/node_modules/playwright-core/package.json').version" 2>/dev/null), $("$CHROMIUM" --version 2>/dev/null | head -1)"

ART_DIR=${RG_ARTIFACT_DIR:-$RG_BUILDDIR/tests}
mkdir -p "$ART_DIR"
SHOT=$ART_DIR/hls-browser.png
rm -f "$SHOT"

mkdir -p "$T/src" "$T/www"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x180:rate=25" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100" -f lavfi -i "sine=frequency=660:sample_rate=48000" \
  -t 40 -map 0 -map 1 -map 2 -c:v libx264 -preset veryfast -b:v 400k -g 50 -pix_fmt yuv420p \
  -c:a:0 aac -b:a:0 96k -c:a:1 ac3 -b:a:1 128k \
  -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra -disposition:a:0 default -disposition:a:1 0 \
  "$T/a.mkv" >"$T/ffmpeg.out" 2>&1 || die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"
printf '1\n00:00:00,500 --> 00:00:30,000\nreelgate HLS test\n' >"$T/s.srt"
ffmpeg -nostdin -v error -y -i "$T/a.mkv" -i "$T/s.srt" -map 0 -map 1 -c copy -c:s srt \
  -metadata:s:s:0 language=eng "$T/src/movie.mkv" >>"$T/ffmpeg.out" 2>&1 || die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"

seed_ours seed 127.0.0.2 "$T/src/movie.mkv"
start_daemon browser
add_link "$MAGNET"
check "metadata within 30 s" wait_metadata "$HASH" 30
MASTER="$URL/hls/$HASH/0/index.m3u8?api_key=$API_KEY"
http GET "$MASTER"
check_status "master playlist → 200" 200
check "two audio renditions, the AAC one the default" \
  sh -c '[ "$(grep -c "^#EXT-X-MEDIA:TYPE=AUDIO" "$1")" = 2 ] && grep -q "TYPE=AUDIO.*LANGUAGE=\"eng\",DEFAULT=YES" "$1"' _ "$T/body"
check "CORS allows the player's origin" test "$(hdr Access-Control-Allow-Origin)" = "*"

cp "$RG_SRCDIR/tests/hls/player.html" "$T/www/player.html"
cp "$NPM_CACHE/node_modules/hls.js/dist/hls.min.js" "$T/www/hls.min.js"
start_httpd "$T/www"
PAGE="$HTTPD_URL/player.html?${HLS_DEBUG:+debug=1&}src=$(py quote "$MASTER")"
note "player: $PAGE"
NODE_PATH="$NPM_CACHE/node_modules" timeout 90 node "$RG_SRCDIR/tests/hls/drive.js" \
  "$PAGE" "$SHOT" 60 >"$T/drive.out" 2>&1
rc=$?
sed 's/^/# /' "$T/drive.out" | grep -v '^# # page: loaded' | tail -40
[ $rc = 77 ] && skip_all "$(grep -m1 '^SKIP' "$T/drive.out")"
check "hls.js plays past 2 s, then plays on after a seek to 60 %" grep -q '^PASS' "$T/drive.out"
check "a screenshot was kept" test -s "$SHOT"
note "screenshot: $SHOT"
check "hls.js sees both audio tracks, the AAC (eng) one the default" grep -q 'audio tracks: eng\*, fra$' "$T/drive.out"
check "hls.js loaded the WebVTT cue (0.5 s - 30 s)" grep -Eq "cue\(s\).*\[0\.5[0-9]-30\.0[0-9] reelgate HLS test\]" "$T/drive.out"
n=$(grep -c 'hls.js error' "$T/drive.out")
[ "$n" -gt 0 ] && note "$n non-fatal hls.js error event(s) (hls.js 1.7 reports bufferAppendNoProgress for a first fragment with alternate audio, ffmpeg's own HLS too)"

stop_daemon
finish
