#!/bin/sh
# hls-browser.sh — hls.js (from npm) in headless Chromium plays reelgate's
# HLS: a 40 s H.264 MKV with two audio tracks (AAC and AC3, so the master
# playlist has audio renditions and the default must play) and an SRT
# track, served from a loopback swarm. The page (tests/hls/player.html,
# served by python's http.server) plays muted: currentTime passes 2 s, then
# a seek to 60 % plays on. A screenshot is kept next to the test's log
# (hls-browser.png) and its path printed.
#
# Then the same title as fMP4 (?fmp4=1: init.mp4 + .m4s, both audio
# renditions fMP4 too) must play the same way, and so must a 20 s AV1 MKV
# (always fMP4; Chromium decodes AV1 in software) when ffmpeg has SVT-AV1. Last, a 12 s HEVC + E-AC3
# MKV (fMP4, hvc1 — the default for HEVC) goes through tests/hls/probe.html:
# it plays when this Chromium decodes HEVC; when it cannot (Linux builds
# without a platform HEVC decoder), the check is only that hls.js reads the
# master's hvc1 CODECS, parses the media playlist (MANIFEST_PARSED) and
# reads the codec out of init.mp4, and the test says that nothing was
# decoded (no pass is claimed for playback).
#
# hls.js and playwright-core are installed with npm into a cache outside
# git ($RG_NPM_CACHE, default tests/.cache/npm in the build dir). Exit 77
# when chromium, node/npm or the npm registry are unavailable.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg
need_chromium

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

HEVC=''
if ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libx265 &&
  ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' eac3 '; then
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x180:rate=25" \
    -f lavfi -i "sine=frequency=300:sample_rate=48000" -t 12 \
    -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=50:open-gop=0 \
    -pix_fmt yuv420p -c:a eac3 -ac 6 -b:a 192k "$T/src/hevc.mkv" >>"$T/ffmpeg.out" 2>&1 ||
    die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"
  HEVC=1
else
  note "ffmpeg lacks libx265 or eac3: no HEVC part"
fi

AV1=''
if ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libsvtav1; then
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x180:rate=25" \
    -f lavfi -i "sine=frequency=500:sample_rate=48000" -t 20 \
    -c:v libsvtav1 -preset 12 -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k "$T/src/av1.mkv" >>"$T/ffmpeg.out" 2>&1 ||
    die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"
  AV1=1
fi

seed_ours seed 127.0.0.2 "$T/src"
start_daemon browser
add_link "$MAGNET"
check "metadata within 30 s" wait_metadata "$HASH" 30
torrent "$HASH"
fidx() { jget "[i for i, f in enumerate(j['files']) if f['path'].endswith('/$1')][0]" "$BODY"; }
IMOVIE=$(fidx movie.mkv)
[ -n "$HEVC" ] && IHEVC=$(fidx hevc.mkv)
[ -n "$AV1" ] && IAV1=$(fidx av1.mkv)
MASTER="$URL/hls/$HASH/$IMOVIE/index.m3u8?api_key=$API_KEY"
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

# ---- the same title as fMP4
FMASTER="$URL/hls/$HASH/$IMOVIE/index.m3u8?fmp4=1&api_key=$API_KEY"
http GET "$FMASTER"
check "?fmp4=1 master: version 7, renditions and variant ask for fMP4" \
  sh -c 'grep -q "^#EXT-X-VERSION:7" "$1" && [ "$(grep -c "^#EXT-X-MEDIA:TYPE=AUDIO.*&fmp4=1&" "$1")" = 2 ] && grep -q "^video.m3u8?audio=-1&fmp4=1&" "$1"' _ "$T/body"
FSHOT=$ART_DIR/hls-browser-fmp4.png
rm -f "$FSHOT"
NODE_PATH="$NPM_CACHE/node_modules" timeout 90 node "$RG_SRCDIR/tests/hls/drive.js" \
  "$HTTPD_URL/player.html?src=$(py quote "$FMASTER")" "$FSHOT" 60 >"$T/drive-fmp4.out" 2>&1
sed 's/^/# fmp4 /' "$T/drive-fmp4.out" | grep -v '# page: loaded' | tail -25
check "fMP4 (H.264): hls.js plays past 2 s, then plays on after a seek to 60 %" grep -q '^PASS' "$T/drive-fmp4.out"
check "fMP4 (H.264): hls.js loaded .m4s fragments" grep -q 'loaded main fragment' "$T/drive-fmp4.out"
check "fMP4 (H.264): both audio tracks, the AAC (eng) one the default" grep -q 'audio tracks: eng\*, fra$' "$T/drive-fmp4.out"
check "fMP4 (H.264): the WebVTT cue lines up with the fMP4 clock (0.5 s - 30 s)" grep -Eq "cue\(s\).*\[0\.5[0-9]-30\.0[0-9] reelgate HLS test\]" "$T/drive-fmp4.out"
note "fMP4 screenshot: $FSHOT"

# ---- AV1 (always fMP4): Chromium decodes it in software
if [ -n "$AV1" ]; then
  NODE_PATH="$NPM_CACHE/node_modules" timeout 90 node "$RG_SRCDIR/tests/hls/drive.js" \
    "$HTTPD_URL/player.html?src=$(py quote "$URL/hls/$HASH/$IAV1/index.m3u8?api_key=$API_KEY")" \
    "$ART_DIR/hls-browser-av1.png" 60 >"$T/drive-av1.out" 2>&1
  grep -E '^PASS|^FAIL|hls.js error' "$T/drive-av1.out" | sed 's/^/# av1 /' | tail -5
  check "fMP4 (AV1): hls.js plays past 2 s, then plays on after a seek to 60 %" grep -q '^PASS' "$T/drive-av1.out"
fi

# ---- HEVC (fMP4, hvc1): plays if this Chromium can decode HEVC
if [ -n "$HEVC" ]; then
  cp "$RG_SRCDIR/tests/hls/probe.html" "$T/www/probe.html"
  HM="$URL/hls/$HASH/$IHEVC/index.m3u8?api_key=$API_KEY"
  HV="$URL/hls/$HASH/$IHEVC/video.m3u8?audio=0&api_key=$API_KEY"
  NODE_PATH="$NPM_CACHE/node_modules" timeout 90 node "$RG_SRCDIR/tests/hls/drive.js" \
    "$HTTPD_URL/probe.html?src=$(py quote "$HM")&media=$(py quote "$HV")" "$ART_DIR/hls-browser-hevc.png" 40 \
    >"$T/drive-hevc.out" 2>&1
  hrc=$?
  sed 's/^/# hevc /' "$T/drive-hevc.out" | tail -20
  check "HEVC: hls.js read the master's CODECS (hvc1.…, mp4a.40.2)" \
    grep -Eq 'manifest loaded: level 320x180 codecs hvc1\.[^,]+,mp4a\.40\.2' "$T/drive-hevc.out"
  if [ $hrc = 0 ]; then
    check "HEVC: hls.js plays the fMP4 stream and decodes video frames" grep -q '^PASS' "$T/drive-hevc.out"
  else
    check "HEVC: the fMP4 media playlist parses in hls.js (MANIFEST_PARSED)" grep -q '^# page: MANIFEST_PARSED' "$T/drive-hevc.out"
    check "HEVC: hls.js reads hvc1 from init.mp4" grep -Eq '^# page: init segment parsed: .*video [^ ]*hvc1\.' "$T/drive-hevc.out"
    check "HEVC: the page's verdict is NODECODE (not a playback failure of ours)" grep -q '^NODECODE' "$T/drive-hevc.out"
    note "HEVC NOT DECODED: this Chromium ($("$CHROMIUM" --version 2>/dev/null | head -1)) has no HEVC decoder for MediaSource; only parsing was checked, playback of HEVC is untested here"
  fi
fi

stop_daemon
finish
